locals {
  # routes.json: an allow-list. Each rule forwards a few push/query/read paths; anything
  # else gets the default action, a fixed 404 at the ALB, so no backend ever sees it.
  rules          = { for r in var.routes.rules : r.name => r }
  edge_rules     = { for r in var.routes.rules : r.name => r if try(r.edge_auth, false) }
  edge           = var.routes.edge_auth
  target_groups  = var.routes.target_groups
  https          = var.routes.listeners[var.routes.rules_listener]
  http           = var.routes.listeners.http
  default_action = var.routes.default_action
}

resource "aws_lb" "this" {
  # checkov:skip=CKV2_AWS_28:no WAF: the listener forwards only an allow-list of API paths, and every backend path needs the edge secret (docs/infra.md, "edge control")
  # checkov:skip=CKV2_AWS_76:no WAF (see CKV2_AWS_28); Log4j rule sets protect Java targets, the stack runs Go binaries
  name                       = "${var.name}-alb"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = var.security_group_ids
  idle_timeout               = var.idle_timeout
  drop_invalid_header_fields = true
  # terraform.yaml's destroy path turns this off in its own apply first (terraform-component.yaml).
  enable_deletion_protection = var.deletion_protection

  access_logs {
    enabled = true
    bucket  = aws_s3_bucket.access_logs.id
    prefix  = var.access_logs_prefix
  }

  # ELB checks it may write (a test object) when access logs are switched on.
  depends_on = [module.access_logs_hardening]
}

# One target group per entry of routes.json "target_groups". The health check port may
# differ from the traffic port: Tempo's OTLP receiver (4318) has no /ready, so
# tempo-otlp is checked on 3200 /ready. No path prefix in any health check: prefixes
# are stripped at the ALB, never configured in the backends (2026-01-16 03:15/05:00).
resource "aws_lb_target_group" "this" {
  # checkov:skip=CKV_AWS_378:TLS ends at the ALB; targets are tasks in private subnets reached over HTTP
  for_each             = local.target_groups
  name                 = "${var.name}-${each.key}"
  port                 = each.value.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay

  health_check {
    enabled             = true
    path                = each.value.health_check.path
    port                = tostring(each.value.health_check.port)
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = { Service = each.value.service }
}

# Port 80 only redirects: the Grafana login and the edge secret never travel in clear.
resource "aws_lb_listener" "http" {
  # checkov:skip=CKV_AWS_2:this listener answers every request with a 301 to HTTPS and forwards nothing
  # checkov:skip=CKV_AWS_103:TLS policy applies to the HTTPS listener; this one serves no content
  load_balancer_arn = aws_lb.this.arn
  port              = local.http.port
  protocol          = local.http.protocol

  default_action {
    type = "redirect"
    redirect {
      port        = tostring(local.https.port)
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = local.https.port
  protocol          = local.https.protocol
  ssl_policy        = local.https.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = local.default_action.content_type
      message_body = local.default_action.body
      status_code  = tostring(local.default_action.status)
    }
  }
}

# Forward rules, in routes.json priority order. An edge_auth rule forwards only when the
# edge-secret header holds the current secret (or, during a rotation, the previous one).
# A rule with "rewrite" gets an ALB url-rewrite transform (aws >= 6.19), which strips
# /tempo before Tempo sees the path (2026-01-16 01:00: /tempo/api/search 404).
resource "aws_lb_listener_rule" "this" {
  for_each     = local.rules
  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority

  condition {
    path_pattern {
      values = each.value.paths
    }
  }

  dynamic "condition" {
    for_each = try(each.value.edge_auth, false) ? [1] : []
    content {
      http_header {
        http_header_name = local.edge.header
        values           = var.edge_secret_values
      }
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.value.target_group].arn
  }

  dynamic "transform" {
    for_each = can(each.value.rewrite) ? [each.value.rewrite] : []
    content {
      type = "url-rewrite"
      url_rewrite_config {
        rewrite {
          regex   = transform.value.regex
          replace = transform.value.replace
        }
      }
    }
  }

  tags = { Route = each.key }
}

# The same paths without the secret: a fixed 401 from the ALB (priority + 500, after every
# forward rule and before Grafana's), so an outsider never reaches a backend.
resource "aws_lb_listener_rule" "unauthenticated" {
  for_each     = local.edge_rules
  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority + 500

  condition {
    path_pattern {
      values = each.value.paths
    }
  }

  action {
    type = "fixed-response"
    fixed_response {
      content_type = local.edge.unauthenticated.content_type
      message_body = local.edge.unauthenticated.body
      status_code  = tostring(local.edge.unauthenticated.status)
    }
  }

  tags = { Route = "${each.key}-unauthenticated" }
}
