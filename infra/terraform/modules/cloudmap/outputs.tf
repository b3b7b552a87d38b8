output "namespace_id" {
  description = "Namespace id."
  value       = aws_service_discovery_private_dns_namespace.this.id
}

output "namespace_name" {
  description = "Namespace name."
  value       = aws_service_discovery_private_dns_namespace.this.name
}

output "service_arns" {
  description = "Cloud Map service ARN per service."
  value       = { for k, s in aws_service_discovery_service.service : k => s.arn }
}
