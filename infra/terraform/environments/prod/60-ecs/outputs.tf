output "cluster_name" {
  description = "cluster name"
  value       = module.ecs.cluster_name
}

output "service_names" {
  description = "service names"
  value       = module.ecs.service_names
}

output "task_definition_arns" {
  description = "task definition arns"
  value       = module.ecs.task_definition_arns
}

output "smoke_alarm_names" {
  description = "The deploy alarm of each service: the smoke gate's verdict, which rolls a failed deployment back."
  value       = module.ecs.smoke_alarm_names
}
