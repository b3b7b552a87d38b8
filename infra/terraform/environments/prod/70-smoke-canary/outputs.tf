output "schedule_arn" {
  description = "EventBridge Scheduler schedule that starts the canary task"
  value       = module.smoke_canary.schedule_arn
}

output "task_definition_family" {
  description = "family of the canary task (aws ecs list-tasks --family)"
  value       = module.smoke_canary.task_definition_family
}

output "log_group_name" {
  description = "the canary runs' verdicts"
  value       = module.smoke_canary.log_group_name
}

output "task_role_arn" {
  description = "the canary's task role (the smoke gate's read-only statements + PutMetricData in one namespace)"
  value       = module.smoke_canary.task_role_arn
}
