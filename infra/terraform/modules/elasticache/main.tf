locals {
  family = "memcached${join(".", slice(split(".", var.memcached_version), 0, 2))}"
}

resource "aws_elasticache_subnet_group" "this" {
  name       = "${var.cluster_id}-subnets"
  subnet_ids = var.subnet_ids
}

resource "aws_elasticache_parameter_group" "this" {
  name   = "${var.cluster_id}-params"
  family = local.family

  parameter {
    name  = "max_item_size"
    value = tostring(var.max_item_size)
  }
}

resource "aws_elasticache_cluster" "this" {
  cluster_id           = var.cluster_id
  engine               = "memcached"
  engine_version       = var.memcached_version
  node_type            = var.node_type
  num_cache_nodes      = var.num_cache_nodes
  port                 = 11211
  az_mode              = var.num_cache_nodes > 1 ? "cross-az" : "single-az"
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = var.security_group_ids
  maintenance_window   = var.maintenance_window
}
