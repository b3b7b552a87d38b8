output "execution_role_arn" {
  description = "ECS task execution role."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "ECS task role of the backends."
  value       = aws_iam_role.task.arn
}

output "github_deploy_role_arn" {
  description = "Role deploy-ecs.yaml assumes through OIDC."
  value       = aws_iam_role.github_deploy.arn
}

output "github_terraform_role_arn" {
  description = "Role terraform.yaml assumes through OIDC."
  value       = aws_iam_role.github_terraform.arn
}

output "grafana_admin_secret_arn" {
  description = "Secrets Manager secret with the Grafana admin password."
  value       = aws_secretsmanager_secret.grafana_admin.arn
}
