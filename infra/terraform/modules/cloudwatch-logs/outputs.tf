output "log_group_names" {
  description = "Log group name per service."
  value       = { for k, g in aws_cloudwatch_log_group.service : k => g.name }
}
