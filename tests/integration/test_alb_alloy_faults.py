"""Runbook proof for the ALB and collector checks: green on a healthy reference stack; with
each of their faults exactly the intended checks fail, naming the path or setting; the edge
secret never appears in any output or report."""

from __future__ import annotations

import pytest
from harness import run_pytest
from lgtm_refstack.stack import ReferenceStack

MARK = "smoke and (alb or alloy)"
TENANT = "t-alb"
CLOSED = {b: f"test_{b}_admin_routes_closed_at_the_alb" for b in ("loki", "tempo", "mimir", "pyroscope", "grafana")}
EDGE = {b: f"test_{b}_refuses_unauthenticated_write_and_read" for b in ("mimir", "loki", "tempo", "pyroscope")}
UNKNOWN, REDIRECT = "test_unknown_paths_get_the_albs_fixed_404", "test_plain_http_redirects_to_https"
ALLOY_METRICS, ALLOY_LOGS = "test_alloy_self_metrics_are_fresh_in_mimir", "test_alloy_logs_are_in_loki"
ALL = {*CLOSED.values(), *EDGE.values(), UNKNOWN, REDIRECT, ALLOY_METRICS, ALLOY_LOGS}

# fault -> {check that must fail: text its message must hold}
FAULTS = {
    "tempo-admin-via-prefix": {
        CLOSED["tempo"]: "/tempo/shutdown → tempo as /shutdown",
        UNKNOWN: "/tempo/",
    },
    "alb-forwards-unknown-paths": {
        CLOSED["grafana"]: "/metrics → grafana as /metrics (the default action",
        UNKNOWN: "not the ALB's own fixed 404",
    },
    "http-not-redirected": {REDIRECT: "expected a 301/308 redirect to https"},
    "edge-auth-off": {name: "forwarded and" for name in EDGE.values()},
}


def _run(stack: ReferenceStack, tmp_path, faults=()):
    stack.set_faults(list(faults))
    return run_pytest(
        ["-m", MARK, "--alb", stack.url, "--tenant", TENANT, "--readback-timeout", "3", *stack.suite_args()], tmp_path
    )


@pytest.fixture(scope="module")
def stack():
    with ReferenceStack(tenants=(TENANT,)) as s:
        yield s


def test_healthy_stack_is_green(stack, tmp_path):
    run = _run(stack, tmp_path)
    assert run.returncode == 0 and set(run.passed) == ALL, run.output[-3000:]
    assert stack.edge_secret not in run.output and all(stack.edge_secret not in f for f in run.files.values())


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_alb_fault_fails_exactly_its_checks(stack, tmp_path, fault):
    run = _run(stack, tmp_path, [fault])
    want = FAULTS[fault]
    assert set(run.failed) == set(want), (
        f"{fault}: unexpected {sorted(set(run.failed) - set(want))}, "
        f"missed {sorted(set(want) - set(run.failed))}\n{run.output[-3000:]}"
    )
    for name, text in want.items():
        first = run.failed[name].splitlines()[0]
        assert text in first and "Traceback" not in run.failed[name], f"{name}: {first}"
    assert stack.edge_secret not in run.output and all(stack.edge_secret not in f for f in run.files.values())


def test_untrusted_certificate_blocks_the_https_checks_only(stack, tmp_path):
    """The listener-rule evaluation needs no TLS and still runs; every check that talks to the
    ALB is blocked by the `alb` precondition (the redirect too: it leads to that listener)."""
    run = _run(stack, tmp_path, ["tls-untrusted"])
    https = {*EDGE.values(), UNKNOWN, REDIRECT, ALLOY_METRICS, ALLOY_LOGS}
    assert set(run.failed) == https, run.output[-3000:]
    assert all("not trusted" in run.failed[n] for n in https)
    assert set(CLOSED.values()) <= set(run.passed)


@pytest.mark.parametrize(
    "fault, cause",
    [
        ("alloy-wrong-tenant", "not in Mimir under tenant 't-alb'"),
        ("alloy-stopped", "not in Mimir under tenant 't-alb'"),
    ],
)
def test_alloy_fault_fails_exactly_the_collector_checks(tmp_path, fault, cause):
    """From the start of a stack: a stop or a wrong tenant leaves nothing under this tenant (a
    stop seconds ago cannot be told from a running Alloy: freshness is two scrape intervals)."""
    with ReferenceStack([fault], tenants=(TENANT,)) as fresh:
        run = _run(fresh, tmp_path, [fault])
    assert set(run.failed) == {ALLOY_METRICS, ALLOY_LOGS}, run.output[-3000:]
    assert cause in run.failed[ALLOY_METRICS].splitlines()[0]
    assert "LGTM_TENANT_ID" in run.failed[ALLOY_LOGS].splitlines()[0]
