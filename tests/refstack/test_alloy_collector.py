"""The collector stand-in writes what the shipped Alloy writes, where and as whom it writes it:
its self-metrics to Mimir and its own logs to Loki, under the stack's tenant, straight to the
backends (the ALB never sees them); `alloy-wrong-tenant` and `alloy-stopped` break exactly that."""
from __future__ import annotations

import time

import pytest
import requests
from lgtm_refstack.alloy import VERSION, WRONG_TENANT, shipped_scrape_interval
from lgtm_refstack.stack import ReferenceStack

TENANT = "t-alloy"


@pytest.fixture(scope="module")
def stack():
    with ReferenceStack(tenants=(TENANT,), alloy_interval=0.2) as s:
        yield s


def _metric(stack, tenant: str) -> list[dict]:
    r = requests.get(f"{stack._upstream_url('mimir')}/prometheus/api/v1/query",
                     params={"query": 'alloy_build_info{job="integrations/self"}'}, headers={"X-Scope-OrgID": tenant},
                     timeout=5)
    return r.json()["data"]["result"]


def _logs(stack, tenant: str) -> list:
    now = time.time_ns()
    r = requests.get(f"{stack._upstream_url('loki')}/loki/api/v1/query_range",
                     params={"query": '{component="alloy"}', "start": str(now - 60 * 10**9), "end": str(now + 10**9)},
                     headers={"X-Scope-OrgID": tenant}, timeout=5)
    return [v for s in r.json()["data"]["result"] for v in s["values"]]


def _eventually(fn, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


def test_shipped_config_gives_the_scrape_interval(repo_root):
    assert shipped_scrape_interval(repo_root / "infra/images/alloy/config.alloy") == 30.0


def test_self_metrics_and_logs_arrive_under_the_stacks_tenant_by_the_internal_path(stack):
    assert _eventually(lambda: _metric(stack, TENANT) and _logs(stack, TENANT))
    [series] = _metric(stack, TENANT)
    assert series["metric"]["version"] == VERSION and series["metric"]["instance"]
    assert "level=info" in _logs(stack, TENANT)[0][1]
    assert stack.state_changes() == {}  # pushes are not admin calls


def test_wrong_tenant_fault_writes_elsewhere_and_stopped_fault_writes_nothing(stack):
    stack.set_faults(["alloy-wrong-tenant"])
    try:
        assert _eventually(lambda: _metric(stack, WRONG_TENANT) and _logs(stack, WRONG_TENANT))
        stack.set_faults(["alloy-stopped"])
        time.sleep(0.3)  # a scrape already under way ends
        sent = dict(stack.alloy.sent)
        time.sleep(1.0)  # five scrape intervals
        assert stack.alloy.sent == sent
    finally:
        stack.set_faults([])
    assert _eventually(lambda: stack.alloy.sent["metrics"] > sent["metrics"])
