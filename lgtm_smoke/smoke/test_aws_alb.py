"""ALB: does the listener route exactly like infra/routes.json, and are all targets healthy
and drained safely? Run this area alone: `pytest -m "smoke and aws" -k aws_alb --alb $ALB`."""
import pytest

from lgtm_smoke.aws import alb

pytestmark = [pytest.mark.smoke, pytest.mark.aws]


def test_listener_present(aws_check):
    """The ALB has its rules listener on the routes.json port (443). Fails on: listener deleted or
    moved (seed: the removed 4318 listener)."""
    aws_check(alb.check_listener_present)


def test_listener_rules_equal_route_table(aws_check):
    """Each rule of infra/routes.json is on the listener with the same priority, path patterns
    and action (forward to the right target group, with the edge-secret header condition where
    routes.json says edge_auth; the +500 fixed 401 twins), no extra rules, default a fixed 404.
    Fails on: a rule missing, forwarding to the wrong target group, or without the header condition."""
    aws_check(alb.check_rules_match_routes)


def test_tempo_rewrite_in_place(aws_check):
    """The /tempo/* rule carries the url-rewrite transform ^/tempo/(.*)$ → /$1. Fails when
    describe_rules shows no such Transform (Tempo would get /tempo/... and answer 404)."""
    aws_check(alb.check_rewrites)


def test_targets_healthy(aws_check):
    """Every target group has ≥ 1 healthy target and none unhealthy; reason and description
    are reported. Fails on: health check path wrong for the image (seed: /pyroscope/ready 404)."""
    aws_check(alb.check_targets_healthy)


def test_health_check_path_and_port(aws_check):
    """Target-group health checks use the path/port in infra/routes.json (/ready, /api/health).
    Fails on: a prefixed path the backend does not serve (seed: http_path_prefix rollback)."""
    aws_check(alb.check_health_check_settings)


def test_deregistration_delay_within_stop_timeout(aws_check):
    """Deregistration delay ≤ the service's container stopTimeout (seed: both 120 s), so ECS
    does not kill a task the ALB is still draining. Fails on: the 300 s default."""
    aws_check(alb.check_deregistration_delay)
