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

data "terraform_remote_state" "security_groups" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/30-security-groups/terraform.tfstate"
    region = var.aws_region
  }
}

locals {
  # THE route table, shared with the local reference stack and the smoke suite.
  routes = jsondecode(file("${path.root}/../../../../routes.json"))
}

module "alb" {
  source             = "../../../modules/alb"
  name               = local.name
  vpc_id             = data.terraform_remote_state.vpc.outputs.vpc_id
  public_subnet_ids  = data.terraform_remote_state.vpc.outputs.public_subnet_ids
  security_group_ids = [data.terraform_remote_state.security_groups.outputs.alb_security_group_id]
  routes             = local.routes
  certificate_arn    = var.certificate_arn
  # The edge secret (02-iam keeps it in Secrets Manager): current, plus previous during a rotation.
  edge_secret_values  = data.terraform_remote_state.iam.outputs.edge_secret_values
  deletion_protection = var.deletion_protection
  # Drain time = the containers' stopTimeout (2026-01-15 19:00).
  deregistration_delay = min([for s in values(var.service_config) : s.stop_timeout]...)
}
