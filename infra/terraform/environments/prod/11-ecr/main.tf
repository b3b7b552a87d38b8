locals {
  name = "${var.project_name}-${var.environment}"
}

module "ecr" {
  source       = "../../../modules/ecr"
  project_name = var.project_name
  services     = toset(keys(var.service_config))
}
