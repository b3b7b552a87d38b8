locals {
  https_enabled = var.certificate_arn != null
  rules         = { for r in var.routes.rules : r.name => r }
  target_groups = var.routes.target_groups
}

resource "aws_lb" "this" {
  # checkov:skip=CKV_AWS_91:access logs need a log bucket with an ELB delivery policy; not part of this stack yet
  # checkov:skip=CKV_AWS_150:deletion protection would block the destroy path of terraform.yaml
  # checkov:skip=CKV2_AWS_20:HTTP->HTTPS redirect is switched on with certificate_arn (no certificate yet)
  # checkov:skip=CKV2_AWS_28:WAF is out of scope; admin and internal paths are denied by the route table (403)
  # checkov:skip=CKV2_AWS_76:WAF is out of scope (see CKV2_AWS_28)
  name                       = "${var.name}-alb"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = var.security_group_ids
  idle_timeout               = var.idle_timeout
  drop_invalid_header_fields = true
  enable_deletion_protection = false
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

resource "aws_lb_listener" "http" {
  # checkov:skip=CKV_AWS_2:plain HTTP until certificate_arn is set; then this listener only redirects to 443
  # checkov:skip=CKV_AWS_103:TLS policy applies to the 443 listener only
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  dynamic "default_action" {
    for_each = local.https_enabled ? [] : [1]
    content {
      type             = "forward"
      target_group_arn = aws_lb_target_group.this[var.routes.default_target_group].arn
    }
  }

  dynamic "default_action" {
    for_each = local.https_enabled ? [1] : []
    content {
      type = "redirect"
      redirect {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = local.https_enabled ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[var.routes.default_target_group].arn
  }
}

locals {
  rules_listener_arn = local.https_enabled ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
}

# Rules, in routes.json priority order: deny rules answer 403, forward rules go to their
# target group; a rule with "rewrite" gets an ALB url-rewrite transform (aws >= 6.19),
# which strips /tempo before Tempo sees the path (2026-01-16 01:00: /tempo/api/search 404).
resource "aws_lb_listener_rule" "this" {
  for_each     = local.rules
  listener_arn = local.rules_listener_arn
  priority     = each.value.priority

  condition {
    path_pattern {
      values = each.value.paths
    }
  }

  dynamic "action" {
    for_each = each.value.action == "deny" ? [1] : []
    content {
      type = "fixed-response"
      fixed_response {
        content_type = "text/plain"
        message_body = "forbidden"
        status_code  = "403"
      }
    }
  }

  dynamic "action" {
    for_each = each.value.action == "forward" ? [1] : []
    content {
      type             = "forward"
      target_group_arn = aws_lb_target_group.this[each.value.target_group].arn
    }
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
