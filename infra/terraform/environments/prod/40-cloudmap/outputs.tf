output "namespace_id" {
  description = "namespace id"
  value       = module.cloudmap.namespace_id
}

output "namespace_name" {
  description = "namespace name"
  value       = module.cloudmap.namespace_name
}

output "service_arns" {
  description = "service arns"
  value       = module.cloudmap.service_arns
}
