resource "aws_security_group" "alb" {
  # checkov:skip=CKV_AWS_260:the ALB is the stack's public entry point; clients are limited by alb_ingress_cidrs
  # checkov:skip=CKV2_AWS_5:attached to the ALB in component 50-alb (another state)
  name        = "${var.name}-alb"
  description = "LGTM ALB: clients in, tasks out"
  vpc_id      = var.vpc_id

  dynamic "ingress" {
    for_each = var.alb_listener_ports
    content {
      description = "listener ${ingress.value}"
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = var.alb_ingress_cidrs
    }
  }

  egress {
    description = "to the tasks inside the VPC"
    from_port   = 0
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_security_group" "ecs" {
  # checkov:skip=CKV2_AWS_5:attached to the ECS services in component 60-ecs (another state)
  name        = "${var.name}-ecs"
  description = "LGTM ECS tasks"
  vpc_id      = var.vpc_id

  dynamic "ingress" {
    for_each = var.service_ports
    content {
      description     = "ALB to container port ${ingress.value}"
      from_port       = ingress.value
      to_port         = ingress.value
      protocol        = "tcp"
      security_groups = [aws_security_group.alb.id]
    }
  }

  ingress {
    description = "task to task (Grafana and Alloy to backends, memberlist, gRPC)"
    from_port   = 0
    to_port     = 65535
    protocol    = "tcp"
    self        = true
  }

  egress {
    description = "HTTPS: ECR, S3, CloudWatch, Secrets Manager, SNS (alerts)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "inside the VPC: other tasks, memcached, DNS"
    from_port   = 0
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description = "DNS (Cloud Map, ElastiCache names)"
    from_port   = 53
    to_port     = 53
    protocol    = "udp"
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_security_group" "memcached" {
  # checkov:skip=CKV2_AWS_5:attached to the ElastiCache cluster in component 35-elasticache (another state)
  name        = "${var.name}-memcached"
  description = "LGTM memcached: from ECS tasks only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "memcached from ECS tasks"
    from_port       = var.memcached_port
    to_port         = var.memcached_port
    protocol        = "tcp"
    security_groups = [aws_security_group.ecs.id]
  }
}
