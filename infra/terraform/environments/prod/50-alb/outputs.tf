output "alb_dns_name" {
  description = "alb dns name"
  value       = module.alb.alb_dns_name
}

output "alb_arn" {
  description = "alb arn"
  value       = module.alb.alb_arn
}

output "target_group_arns" {
  description = "target group arns"
  value       = module.alb.target_group_arns
}

output "listener_arn" {
  description = "listener arn"
  value       = module.alb.listener_arn
}

output "http_listener_arn" {
  description = "port 80 listener (redirect only)"
  value       = module.alb.http_listener_arn
}

output "access_logs_bucket" {
  description = "alb access logs bucket"
  value       = module.alb.access_logs_bucket
}
