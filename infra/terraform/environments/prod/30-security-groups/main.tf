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

locals {
  # Traffic and health-check ports of every target group in the route table.
  routes = jsondecode(file("${path.root}/../../../../routes.json"))
  service_ports = toset(flatten([
    for tg in values(local.routes.target_groups) : [tg.port, tg.health_check.port]
  ]))
}

module "security_groups" {
  source            = "../../../modules/security-groups"
  name              = local.name
  vpc_id            = data.terraform_remote_state.vpc.outputs.vpc_id
  vpc_cidr          = data.terraform_remote_state.vpc.outputs.vpc_cidr
  alb_ingress_cidrs = var.alb_ingress_cidrs
  service_ports     = local.service_ports
}
