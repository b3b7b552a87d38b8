locals {
  name = "${var.project_name}-${var.environment}"
}

module "ecr" {
  source       = "../../../modules/ecr"
  project_name = var.project_name
  # every service's image, and the smoke canary's (a scheduled task, not a service: 70-smoke-canary)
  services = toset(concat(keys(var.service_config), ["smoke"]))
}
