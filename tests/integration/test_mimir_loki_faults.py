"""Runbook proof for the metrics and logs checks: on a healthy stack they pass; with each
named fault exactly the intended check fails, and its message names the cause."""
from __future__ import annotations

import pytest

MIMIR = "test_remote_write_sample_reads_back_exactly"
LOKI_JSON = "test_json_push_reads_back_exactly"
LOKI_PROTO = "test_protobuf_push_reads_back_exactly"
ALL = {MIMIR, LOKI_JSON, LOKI_PROTO}
MARK = "smoke and (mimir or loki) and not (security or grafana)"  # the round trips


def test_healthy_stack_passes_every_metrics_and_logs_check(run_smoke):
    run = run_smoke(MARK)
    assert run.returncode == 0, run.output
    assert run.passed == ALL and not run.failed


ALB_404 = "404 not found at the load balancer: no route for this path"


@pytest.mark.parametrize("fault, failing, cause", [
    # no route: the target group's precondition fails once, its checks are blocked by it
    # (the route is gone: the ALB answers its own fixed 404, routes.json default_action)
    ("mimir-route-404", {MIMIR}, "blocked by target_group.mimir: target group mimir: GET "
                                 f"/prometheus/api/v1/labels → 404: {ALB_404} — no ALB rule"),
    ("loki-route-404", {LOKI_JSON, LOKI_PROTO}, "blocked by target_group.loki: target group loki: GET "
                                                f"/loki/api/v1/labels → 404: {ALB_404} — no ALB rule"),
    ("mimir-down", {MIMIR}, "→ 502 after 3 attempts"),
    ("loki-down", {LOKI_JSON, LOKI_PROTO}, "→ 502 after 3 attempts"),
    ("mimir-slow-ingest=5", {MIMIR}, "not visible after 1s; received"),
    ("loki-slow-ingest=5", {LOKI_JSON, LOKI_PROTO}, "not visible after 1s; received 0 matching line(s)"),
    ("flaky-5xx=50", ALL, "→ 503 after 5 attempts"),
])
def test_each_fault_fails_exactly_its_check(run_smoke, fault, failing, cause):
    run = run_smoke(MARK, [fault], timeout=1)
    assert run.returncode == 1, run.output
    assert set(run.failed) == failing, run.output
    assert run.passed == ALL - failing
    for name in failing:
        assert cause in run.failed[name], run.failed[name]


@pytest.mark.parametrize("fault", ["flaky-5xx=2", "slow-ingest=0.3"])
def test_transient_trouble_is_absorbed_by_the_retry_discipline(run_smoke, fault):
    """A few 503s, or data that shows up a moment late, are not failures."""
    run = run_smoke(MARK, [fault])
    assert run.returncode == 0, run.output
    assert run.passed == ALL
