locals {
  name = "${var.project_name}-${var.environment}"
}

data "terraform_remote_state" "vpc" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/01-vpc/terraform.tfstate"
    region = var.aws_region
  }
}

data "terraform_remote_state" "iam" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/02-iam/terraform.tfstate"
    region = var.aws_region
  }
}

data "terraform_remote_state" "logs" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/10-cloudwatch-logs/terraform.tfstate"
    region = var.aws_region
  }
}

data "terraform_remote_state" "ecr" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/11-ecr/terraform.tfstate"
    region = var.aws_region
  }
}

data "terraform_remote_state" "security_groups" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/30-security-groups/terraform.tfstate"
    region = var.aws_region
  }
}

data "terraform_remote_state" "memcached" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/35-elasticache/terraform.tfstate"
    region = var.aws_region
  }
}

data "terraform_remote_state" "cloudmap" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/40-cloudmap/terraform.tfstate"
    region = var.aws_region
  }
}

data "terraform_remote_state" "alb" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/50-alb/terraform.tfstate"
    region = var.aws_region
  }
}

locals {
  routes = jsondecode(file("${path.root}/../../../../routes.json"))
}

# Image tag per service: written by deploy-ecs.yaml after each push (<version>-<timestamp>).
data "aws_ssm_parameter" "image_tag" {
  for_each = var.service_config
  name     = "/${var.project_name}/${var.environment}/image-tag/${each.key}"
}

module "ecs" {
  source                            = "../../../modules/ecs"
  name                              = local.name
  cluster_name                      = var.ecs_cluster_name
  aws_region                        = var.aws_region
  tenant_id                         = var.tenant_id
  data_bucket                       = var.data_bucket
  storage_prefixes                  = var.storage_prefixes
  memcached_endpoint                = data.terraform_remote_state.memcached.outputs.memcached_endpoint
  cloudmap_namespace                = var.cloudmap_namespace
  cloudmap_service_arns             = data.terraform_remote_state.cloudmap.outputs.service_arns
  service_config                    = var.service_config
  image_repositories                = data.terraform_remote_state.ecr.outputs.repository_urls
  image_tags                        = { for k, p in data.aws_ssm_parameter.image_tag : k => nonsensitive(p.value) }
  routes_target_groups              = local.routes.target_groups
  target_group_arns                 = data.terraform_remote_state.alb.outputs.target_group_arns
  health_check_grace_period_seconds = var.health_check_grace_period_seconds
  private_subnet_ids                = data.terraform_remote_state.vpc.outputs.private_subnet_ids
  security_group_ids                = [data.terraform_remote_state.security_groups.outputs.ecs_security_group_id]
  execution_role_arn                = data.terraform_remote_state.iam.outputs.execution_role_arn
  task_role_arns                    = data.terraform_remote_state.iam.outputs.task_role_arns
  log_group_names                   = data.terraform_remote_state.logs.outputs.log_group_names
  grafana_admin_secret_arn          = data.terraform_remote_state.iam.outputs.grafana_admin_secret_arn
  smoke_metric_namespace            = var.smoke_metric_namespace
}
