"""The collector checks' verdicts on the answers Mimir and Loki give (fresh, stale, absent),
as the runner runs them. (On the reference stack, with its Alloy stand-in and the
alloy-stopped / alloy-wrong-tenant faults: tests/integration/test_alb_alloy_faults.py.)"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

from lgtm_smoke.backends.alloy import checks
from lgtm_smoke.http import Exchange
from lgtm_smoke.outcome import Status, run_check


class Scripted:
    """A client whose answers are Prometheus/Loki JSON made by `answer(path, params)`."""

    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def get(self, path, tenant=None, params=None, **kw):
        self.asked.append((path, tenant, dict(params or {})))
        body = json.dumps(self.answer(path, params or {})).encode()
        return Exchange("GET", path, tenant, 200, "application/json", body, 0.01)


def ctx(answer):
    return SimpleNamespace(client=Scripted(answer), tenant="t1", settings=SimpleNamespace(tenant="t1"))


def vector(*samples):
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"instance": "alloy-1"}, "value": [time.time(), str(ts)]} for ts in samples],
        },
    }


def test_fresh_sample_passes_and_names_its_age():
    c = ctx(lambda path, p: vector(time.time() - 12))
    out = run_check(checks.self_metrics_fresh, c)
    assert out.status is Status.PASSED, out.cause
    assert 11 <= out.data["age_s"] <= 20 and out.data["limit_s"] == 60 and out.data["instances"] == ["alloy-1"]
    path, tenant, params = c.client.asked[0]
    assert (path, tenant) == ("/prometheus/api/v1/query", "t1")
    assert params["query"] == 'timestamp(alloy_build_info{job="integrations/self"})'


def test_stale_sample_fails_naming_the_tenant_and_the_age():
    out = run_check(checks.self_metrics_fresh, ctx(lambda path, p: vector(time.time() - 95)))
    assert out.status is Status.FAILED
    assert out.cause.startswith("Alloy's last self-metric sample under tenant 't1' is 9")
    assert "s old (limit 60s = 2 × scrape_interval 30s): Alloy stopped" in out.cause


def test_no_sample_in_the_lookback_then_the_hour_says_which_tenant_alloy_must_use():
    def answer(path, p):  # nothing within 5 minutes; the hour-long subquery finds the last one
        return vector() if p["query"].startswith("timestamp(") else vector(time.time() - 1800)

    out = run_check(checks.self_metrics_fresh, ctx(answer))
    assert out.status is Status.FAILED and "is 18" in out.cause  # ~1800 s old

    out = run_check(checks.self_metrics_fresh, ctx(lambda path, p: vector()))
    assert out.cause.startswith(
        'Alloy\'s self-metrics alloy_build_info{job="integrations/self"} are not in Mimir '
        "under tenant 't1' (none in the last 60 min)"
    )
    assert "LGTM_TENANT_ID of its task definition; it must be 't1'" in out.cause


def test_logs_present_pass_and_absent_fail():
    line_ns = int((time.time() - 40) * 1e9)
    streams = {
        "status": "success",
        "data": {
            "resultType": "streams",
            "result": [{"stream": {"component": "alloy"}, "values": [[str(line_ns), "level=info msg=x"]]}],
        },
    }
    c = ctx(lambda path, p: streams)
    out = run_check(checks.logs_in_loki, c)
    assert out.status is Status.PASSED and 39 <= out.data["newest_line_age_s"] <= 50
    path, tenant, params = c.client.asked[0]
    assert (path, tenant, params["query"], params["direction"]) == (
        "/loki/api/v1/query_range",
        None,
        '{component="alloy"}',
        "backward",
    )

    empty = {"status": "success", "data": {"resultType": "streams", "result": []}}
    out = run_check(checks.logs_in_loki, ctx(lambda path, p: empty))
    assert (
        out.status is Status.FAILED
        and "Alloy's logs {component=\"alloy\"} are not in Loki under tenant 't1'" in out.cause
    )
