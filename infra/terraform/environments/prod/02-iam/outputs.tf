output "execution_role_arn" {
  description = "execution role arn"
  value       = module.iam.execution_role_arn
}

output "task_role_arns" {
  description = "task role arn per backend (grafana and alloy have none)"
  value       = module.iam.task_role_arns
}

output "github_deploy_role_arn" {
  description = "github deploy role arn"
  value       = module.iam.github_deploy_role_arn
}

output "github_terraform_role_arn" {
  description = "github terraform role arn"
  value       = module.iam.github_terraform_role_arn
}

output "smoke_role_arn" {
  description = "read-only role of the smoke gate (repository variable AWS_SMOKE_ROLE_ARN)"
  value       = module.iam.smoke_role_arn
}

output "smoke_policy_json" {
  description = "read-only statements of the smoke role, reused by the smoke canary's task role (70-smoke-canary)"
  value       = module.iam.smoke_policy_json
}

output "grafana_admin_secret_arn" {
  description = "grafana admin secret arn"
  value       = module.iam.grafana_admin_secret_arn
}

output "edge_secret_arn" {
  description = "ALB edge secret (Secrets Manager); the smoke gate reads it at run time"
  value       = module.iam.edge_secret_arn
}

output "edge_secret_values" {
  description = "values the ALB rules accept (50-alb); sensitive, never in workflow outputs"
  sensitive   = true
  value       = module.iam.edge_secret_values
}

output "page_topic_arn" {
  description = "SNS topic the stack's alerts are published to: subscribe on-call here (aws sns subscribe)"
  value       = module.iam.page_topic_arn
}
