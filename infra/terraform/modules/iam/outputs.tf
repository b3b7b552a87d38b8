output "execution_role_arn" {
  description = "ECS task execution role."
  value       = aws_iam_role.execution.arn
}

output "task_role_arns" {
  description = "ECS task role per backend (its own bucket prefix only); Grafana and Alloy have none."
  value       = { for svc, role in aws_iam_role.task : svc => role.arn }
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

output "edge_secret_arn" {
  description = "Secrets Manager secret holding the current ALB edge secret (AWSCURRENT)."
  value       = aws_secretsmanager_secret.edge.arn
}

output "edge_secret_values" {
  description = "Values the ALB accepts in X-LGTM-Edge-Secret: current, then previous while a rotation is under way."
  sensitive   = true
  value = concat(
    [random_password.edge[local.edge_current_slot].result],
    var.edge_secret_accept_previous && var.edge_secret_generation > 0 ? [random_password.edge[local.edge_previous].result] : [],
  )
}

output "page_topic_arn" {
  description = "SNS topic Mimir's Alertmanager pages to (on-call subscribes; docs/runbook.md, The canary (alerts))."
  value       = aws_sns_topic.page.arn
}
