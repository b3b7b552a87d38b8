output "alb_arn" {
  description = "ALB ARN."
  value       = aws_lb.this.arn
}

output "alb_dns_name" {
  description = "ALB DNS name; the smoke gate's --alb."
  value       = aws_lb.this.dns_name
}

output "target_group_arns" {
  description = "Target group ARN per routes.json target group name."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn }
}

output "listener_arn" {
  description = "Listener carrying the route rules."
  value       = local.rules_listener_arn
}
