resource "aws_cloudwatch_log_group" "service" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs' default service-side encryption; no customer KMS key in this stack
  # checkov:skip=CKV_AWS_338:retention is log_retention_days from common.tfvars (cost choice); durable data lives in S3
  for_each          = var.services
  name              = "/ecs/${var.name}/${each.key}"
  retention_in_days = var.retention_days
}
