output "repository_urls" {
  description = "repository urls"
  value       = module.ecr.repository_urls
}
