"""ALB: does the listener route exactly like infra/routes.json, and are all targets healthy
and drained safely? Run this area alone: `pytest -m "smoke and aws" -k test_alb --alb $ALB`."""

import pytest

from lgtm_smoke.aws import alb

pytestmark = [pytest.mark.smoke, pytest.mark.aws]


@pytest.mark.check(alb.listener_present)
def test_listener_present(outcome):
    """The ALB has the listener routes.json puts the rules on (rules_listener: HTTPS on 443 with
    a certificate and its TLS policy; the old table: HTTP on 80), and the others redirect to
    it. Fails on: listener deleted or moved (seed: the removed 4318 listener)."""
    assert outcome["findings"] == []


@pytest.mark.check(alb.rules_match_routes)
def test_listener_rules_equal_route_table(outcome):
    """Each rule of infra/routes.json is on the listener with the same priority, path patterns
    and action (forward to the right target group, or deny), no extra rules, default → grafana.
    Fails on: a rule missing or forwarding to the wrong target group."""
    assert outcome["findings"] == []


@pytest.mark.check(alb.rewrites)
def test_tempo_rewrite_in_place(outcome):
    """The /tempo/* rule carries the url-rewrite transform ^/tempo/(.*)$ → /$1. Fails when
    describe_rules shows no such Transform (Tempo would get /tempo/... and answer 404)."""
    assert outcome["findings"] == []


@pytest.mark.check(alb.targets_healthy)
def test_targets_healthy(outcome):
    """Every target group has ≥ 1 healthy target and none unhealthy; reason and description
    are reported. Fails on: health check path wrong for the image (seed: /pyroscope/ready 404)."""
    assert outcome["findings"] == []


@pytest.mark.check(alb.health_check_settings)
def test_health_check_path_and_port(outcome):
    """Target-group health checks use the path/port in infra/routes.json (/ready, /api/health).
    Fails on: a prefixed path the backend does not serve (seed: http_path_prefix rollback)."""
    assert outcome["findings"] == []


@pytest.mark.check(alb.deregistration_delay)
def test_deregistration_delay_within_stop_timeout(outcome):
    """Deregistration delay ≤ the service's container stopTimeout (seed: both 120 s), so ECS
    does not kill a task the ALB is still draining. Fails on: the 300 s default."""
    assert outcome["findings"] == []
