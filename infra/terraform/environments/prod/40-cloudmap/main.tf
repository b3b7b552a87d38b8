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

module "cloudmap" {
  source    = "../../../modules/cloudmap"
  namespace = var.cloudmap_namespace
  vpc_id    = data.terraform_remote_state.vpc.outputs.vpc_id
  services  = toset(keys(var.service_config))
}
