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

data "terraform_remote_state" "security_groups" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.state_key_prefix}/30-security-groups/terraform.tfstate"
    region = var.aws_region
  }
}

module "memcached" {
  source             = "../../../modules/elasticache"
  cluster_id         = var.memcached_cluster_id
  subnet_ids         = data.terraform_remote_state.vpc.outputs.private_subnet_ids
  security_group_ids = [data.terraform_remote_state.security_groups.outputs.memcached_security_group_id]
  memcached_version  = var.memcached_config.version
  node_type          = var.memcached_config.node_type
  num_cache_nodes    = var.memcached_config.num_cache_nodes
  max_item_size      = var.memcached_config.max_item_size
  maintenance_window = var.memcached_config.maintenance_window
}
