locals {
  name = "${var.project_name}-${var.environment}"
}

module "logs" {
  source         = "../../../modules/cloudwatch-logs"
  name           = local.name
  services       = toset(keys(var.service_config))
  retention_days = var.log_retention_days
}
