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
  # Clients reach only the listeners: 443 (HTTPS) and 80 (redirect to it).
  listener_ports = [for l in values(local.routes.listeners) : l.port]
}

module "security_groups" {
  source             = "../../../modules/security-groups"
  name               = local.name
  vpc_id             = data.terraform_remote_state.vpc.outputs.vpc_id
  vpc_cidr           = data.terraform_remote_state.vpc.outputs.vpc_cidr
  alb_ingress_cidrs  = var.alb_ingress_cidrs
  alb_listener_ports = local.listener_ports
  service_ports      = local.service_ports
}
