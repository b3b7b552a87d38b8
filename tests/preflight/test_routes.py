"""Each check about the ALB (infra/preflight/routes.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import ALB_COMP, ALB_MAIN, ROUTES, SG_MAIN, TEMPO

pytestmark = pytest.mark.preflight

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # 2026-01-16 03:15 + the OTLP target group
    ("health_checks_match_services", "prefixed-health-path",
     [("infra/routes.json", '"tempo":      {"service": "tempo",     "port": 3200, "health_check": {"path": "/ready"',
       '"tempo":      {"service": "tempo",     "port": 3200, "health_check": {"path": "/tempo/ready"')],
     "health check path '/tempo/ready' is not served by tempo"),
    ("health_checks_match_services", "otlp-health-on-4318",
     [("infra/routes.json", '"port": 4318, "health_check": {"path": "/ready", "port": 3200}',
       '"port": 4318, "health_check": {"path": "/ready", "port": 4319}')],
     "health check port 4319 is not a port tempo listens on"),
    # 2026-01-16 01:00
    ("alb_rules_from_route_table", "no-transform",
     [(ALB_MAIN, 'type = "url-rewrite"', 'type = "host-header-rewrite"')],
     "no dynamic url-rewrite transform"),
    ("alb_rules_from_route_table", "old-provider",
     [(ALB_MAIN.replace("main.tf", "versions.tf"), 'version = "~> 6.19"', 'version = ">= 5.0"')],
     "must be ~> 6.19"),
    ("alb_rules_from_route_table", "unbounded-provider",
     [("infra/terraform/environments/prod/60-ecs/versions.tf", 'version = "~> 6.19"', 'version = ">= 6.19.0"')],
     "60-ecs: aws provider constraint '>= 6.19.0' must be ~> 6.19"),
    ("alb_rules_from_route_table", "static-rules",
     [(ALB_COMP, 'jsondecode(file("${path.root}/../../../../routes.json"))', '{ rules = [], target_groups = {} }')],
     "does not jsondecode(file(.../routes.json))"),
    # issue 11 mutation: /v1/traces to Tempo's API port
    ("otlp_receiver_reachable", "otlp-to-api-target-group",
     [(ROUTES, '"target_group": "tempo-otlp", "edge_auth": true', '"target_group": "tempo", "edge_auth": true')],
     "/v1/traces must go to the tempo-otlp target group (port 4318); rule tempo-otlp sends it to tempo"),
    # issue 12: /tempo/* forwarded whole reaches Tempo's /shutdown (any method)
    ("routes_allow_list_closed", "tempo-whole-prefix",
     [(ROUTES, '"paths": ["/tempo/api/traces/*", "/tempo/api/v2/traces/*", "/tempo/api/echo"]', '"paths": ["/tempo/*"]')],
     "/tempo/shutdown reaches tempo as /shutdown"),
    ("routes_allow_list_closed", "loki-admin-allowed",
     [(ROUTES, '"paths": ["/loki/api/v1/index/volume", "/loki/api/v1/index/volume_range"]',
       '"paths": ["/loki/api/v1/index/volume", "/loki/api/v1/delete"]')],
     "/loki/api/v1/delete reaches loki as /loki/api/v1/delete"),
    # issue 21: Mimir now runs its Alertmanager; its API (silences, alerts, status) must stay behind the ALB's 404
    ("routes_allow_list_closed", "alertmanager-exposed",
     [(ROUTES, '"paths": ["/prometheus/api/v1/metadata", "/prometheus/api/v1/read"]',
       '"paths": ["/prometheus/api/v1/metadata", "/alertmanager/*"]')],
     "/alertmanager/ reaches mimir as /alertmanager/, its /alertmanager/ (mimir 2.17.0 pkg/api/api.go:203 (PathPrefix"),
    # issue 11 mutation: the /tempo rewrite removed
    ("routes_allow_list_closed", "tempo-rewrite-removed",
     [(ROUTES, '"paths": ["/tempo/api/search", "/tempo/api/search/*", "/tempo/api/v2/search/*"],\n'
               '     "rewrite": {"regex": "^/tempo/(.*)$", "replace": "/$1"}}',
       '"paths": ["/tempo/api/search", "/tempo/api/search/*", "/tempo/api/v2/search/*"]}')],
     "route tempo-search: forwards /tempo/api/search, /tempo/api/search/*, /tempo/api/v2/search/* to tempo "
     "without the /tempo rewrite"),
    ("routes_allow_list_closed", "rewrite-beyond-api",
     [(ROUTES, '"paths": ["/tempo/api/metrics/query", "/tempo/api/metrics/query_range"]',
       '"paths": ["/tempo/api/metrics/query", "/tempo/status/*"]')],
     "/tempo/status/* is rewritten to /status/x"),
    ("routes_allow_list_closed", "push-without-edge-auth",
     [(ROUTES, '"target_group": "loki", "edge_auth": true,\n     "paths": ["/loki/api/v1/push"',
       '"target_group": "loki",\n     "paths": ["/loki/api/v1/push"')],
     "route loki-push: forwards to loki without edge_auth"),
    ("routes_allow_list_closed", "default-forwards",
     [(ROUTES, '"default_action": {"type": "fixed-response", "status": 404',
       '"default_action": {"type": "forward", "status": 404')],
     "default_action is"),
    ("routes_allow_list_closed", "grafana-shadows-401",
     [(ROUTES, '{"priority": 901, "name": "grafana-api"', '{"priority": 100, "name": "grafana-api"')],
     "route mimir-push: /api/v1/push without the edge secret goes to grafana-api (priority 100) before the 401 rule at 510"),
    ("routes_allow_list_closed", "four-paths",
     [(ROUTES, '"paths": ["/api/v1/push", "/otlp/v1/metrics"]', '"paths": ["/api/v1/push", "/otlp/v1/metrics", "/a", "/b"]')],
     "route mimir-push: 4 paths"),
    # issue 12: TLS, redirect, security groups
    ("alb_listeners_https_and_redirect", "old-tls-policy",
     [(ROUTES, '"ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"', '"ssl_policy": "ELBSecurityPolicy-2016-08"')],
     "'ELBSecurityPolicy-2016-08' is not a current TLS policy"),
    ("alb_listeners_https_and_redirect", "no-redirect",
     [(ROUTES, '"protocol": "HTTP", "redirect_to": "https"', '"protocol": "HTTP"')],
     "routes.json http listener"),
    ("alb_listeners_https_and_redirect", "http-forwards",
     [(ALB_MAIN, '    type = "redirect"\n    redirect {\n      port        = tostring(local.https.port)\n'
                 '      protocol    = "HTTPS"\n      status_code = "HTTP_301"\n    }\n',
       '    type             = "forward"\n    target_group_arn = aws_lb_target_group.this["grafana"].arn\n')],
     "port 80 listener default actions ['forward']; it must only redirect (301) to HTTPS"),
    ("alb_listeners_https_and_redirect", "https-optional",
     [(ALB_MAIN, 'resource "aws_lb_listener" "https" {\n',
       'resource "aws_lb_listener" "https" {\n  count             = var.certificate_arn != null ? 1 : 0\n')],
     "HTTPS must always exist"),
    ("alb_listeners_https_and_redirect", "header-condition-removed",
     [(ALB_MAIN, "        values           = var.edge_secret_values\n", '        values           = ["x"]\n')],
     "no http_header condition on the edge secret"),
    ("alb_listeners_https_and_redirect", "tasks-open-to-world",
     [(SG_MAIN, "      security_groups = [aws_security_group.alb.id]\n    }\n  }",
       '      cidr_blocks     = ["0.0.0.0/0"]\n    }\n  }')],
     "security group ecs: container-port ingress from ['0.0.0.0/0']"),
    # backend-api.md: Tempo 2.x's receivers listen on localhost unless told otherwise
    ("otlp_receiver_reachable", "otlp-localhost",
     [(TEMPO, "endpoint: 0.0.0.0:4318", "endpoint: localhost:4318")],
     "OTLP http receiver endpoint is 'localhost:4318'"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
