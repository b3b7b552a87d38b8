output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "ECS service name per service."
  value       = { for k, s in aws_ecs_service.service : k => s.name }
}

output "task_definition_arns" {
  description = "Task definition ARN per service."
  value       = { for k, t in aws_ecs_task_definition.service : k => t.arn }
}
