locals {
  name = "${var.project_name}-${var.environment}"
}

module "vpc" {
  source                  = "../../../modules/vpc"
  name                    = local.name
  vpc_cidr                = var.vpc_cidr
  az_count                = var.availability_zones
  flow_log_retention_days = var.log_retention_days
}
