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

output "smoke_alarm_names" {
  description = "The deploy alarm of each service (its deployment rolls back when it goes to ALARM)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.smoke : k => a.alarm_name }
}
