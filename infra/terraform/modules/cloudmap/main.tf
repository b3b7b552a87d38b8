resource "aws_service_discovery_private_dns_namespace" "this" {
  name        = var.namespace
  description = "LGTM services (Grafana datasources and Alloy use these names, not the ALB)"
  vpc         = var.vpc_id
}

resource "aws_service_discovery_service" "service" {
  for_each = var.services
  name     = each.key

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this.id
    routing_policy = "MULTIVALUE"
    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {}
}
