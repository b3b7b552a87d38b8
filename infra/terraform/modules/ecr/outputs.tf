output "repository_urls" {
  description = "Repository URL per service."
  value       = { for k, r in aws_ecr_repository.service : k => r.repository_url }
}
