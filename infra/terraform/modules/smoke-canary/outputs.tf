output "schedule_arn" {
  description = "EventBridge Scheduler schedule that starts the canary task"
  value       = aws_scheduler_schedule.canary.arn
}

output "task_definition_family" {
  description = "family of the canary task (aws ecs list-tasks --family)"
  value       = aws_ecs_task_definition.canary.family
}

output "log_group_name" {
  description = "the canary runs' verdicts"
  value       = aws_cloudwatch_log_group.canary.name
}

output "task_role_arn" {
  description = "the canary's task role (the smoke gate's read-only statements + PutMetricData in one namespace)"
  value       = aws_iam_role.task.arn
}
