output "log_group_names" {
  description = "log group names"
  value       = module.logs.log_group_names
}
