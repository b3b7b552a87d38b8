output "alb_arn" {
  description = "ALB ARN."
  value       = aws_lb.this.arn
}

output "alb_dns_name" {
  description = "ALB DNS name; the smoke gate's --alb is https://<this name>."
  value       = aws_lb.this.dns_name
}

output "target_group_arns" {
  description = "Target group ARN per routes.json target group name."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn }
}

output "listener_arn" {
  description = "HTTPS listener carrying the route rules."
  value       = aws_lb_listener.https.arn
}

output "http_listener_arn" {
  description = "Port 80 listener (redirects to HTTPS only)."
  value       = aws_lb_listener.http.arn
}

output "access_logs_bucket" {
  description = "Bucket of the ALB access logs (prefix access_logs_prefix)."
  value       = aws_s3_bucket.access_logs.id
}
