# The smoke canary: the smoke suite as a scheduled Fargate task every canary_interval_minutes,
# pushing its outcome to Mimir, whose ruler pages (resources and why: modules/smoke-canary;
# network path and cost: docs/infra.md "The canary"). Apply after deploy-ecs.yaml has built the
# smoke image once (it publishes /<project>/<env>/image-tag/smoke), and again after each rebuild.

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

data "terraform_remote_state" "ecr" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/11-ecr/terraform.tfstate"
    region = var.aws_region
  }
}

# 60-ecs makes the cluster; looked up by its name (common.tfvars), as the smoke suite does.
data "aws_ecs_cluster" "stack" {
  cluster_name = var.ecs_cluster_name
}

# Written by deploy-ecs.yaml after it pushes the smoke image (<python version>-<timestamp>).
data "aws_ssm_parameter" "image_tag" {
  name = "/${var.project_name}/${var.environment}/image-tag/smoke"
}

module "smoke_canary" {
  source                   = "../../../modules/smoke-canary"
  name                     = local.name
  cluster_arn              = data.aws_ecs_cluster.stack.arn
  vpc_id                   = data.terraform_remote_state.vpc.outputs.vpc_id
  private_subnet_ids       = data.terraform_remote_state.vpc.outputs.private_subnet_ids
  image                    = "${data.terraform_remote_state.ecr.outputs.repository_urls["smoke"]}:${nonsensitive(data.aws_ssm_parameter.image_tag.value)}"
  smoke_policy_json        = data.terraform_remote_state.iam.outputs.smoke_policy_json
  grafana_admin_secret_arn = data.terraform_remote_state.iam.outputs.grafana_admin_secret_arn
  edge_secret_arn          = data.terraform_remote_state.iam.outputs.edge_secret_arn
  alb_hostname             = var.alb_hostname
  log_retention_days       = var.log_retention_days
  canary_enabled           = var.canary_enabled
  canary_interval_minutes  = var.canary_interval_minutes
  canary_deadline_seconds  = var.canary_deadline_seconds
  smoke_metric_namespace   = var.smoke_metric_namespace
}
