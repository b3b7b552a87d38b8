"""ALB: does the listener route exactly like infra/routes.json, and are all targets healthy
and drained safely? Run this area alone: `pytest -m "smoke and aws" -k aws_alb --alb $ALB`."""
import pytest

from lgtm_smoke.aws import alb

pytestmark = [pytest.mark.smoke, pytest.mark.aws]


def test_listener_present(aws_check):
    """The ALB has the listener routes.json puts the rules on (rules_listener: HTTPS on 443 with
    a certificate and its TLS policy; the old table: HTTP on 80), and the others redirect to
    it. Fails on: listener deleted or moved (seed: the removed 4318 listener)."""
    aws_check(alb.listener_present)


def test_listener_rules_equal_route_table(aws_check):
    """Each rule of infra/routes.json is on the listener with the same priority, path patterns
    and action (forward to the right target group, or deny), no extra rules, default → grafana.
    Fails on: a rule missing or forwarding to the wrong target group."""
    aws_check(alb.rules_match_routes)


def test_tempo_rewrite_in_place(aws_check):
    """The /tempo/* rule carries the url-rewrite transform ^/tempo/(.*)$ → /$1. Fails when
    describe_rules shows no such Transform (Tempo would get /tempo/... and answer 404)."""
    aws_check(alb.rewrites)


def test_targets_healthy(aws_check):
    """Every target group has ≥ 1 healthy target and none unhealthy; reason and description
    are reported. Fails on: health check path wrong for the image (seed: /pyroscope/ready 404)."""
    aws_check(alb.targets_healthy)


def test_health_check_path_and_port(aws_check):
    """Target-group health checks use the path/port in infra/routes.json (/ready, /api/health).
    Fails on: a prefixed path the backend does not serve (seed: http_path_prefix rollback)."""
    aws_check(alb.health_check_settings)


def test_deregistration_delay_within_stop_timeout(aws_check):
    """Deregistration delay ≤ the service's container stopTimeout (seed: both 120 s), so ECS
    does not kill a task the ALB is still draining. Fails on: the 300 s default."""
    aws_check(alb.deregistration_delay)
