"""Mimir through the ALB: Prometheus remote write in (`/api/v1/push`, snappy protobuf) and
PromQL out (`/prometheus/api/v1/query`).

Fixed series: the run lives in the sample value, never in a label (bounded cardinality)."""
from __future__ import annotations

import time

from ...http import Exchange
from ...outcome import CheckFailed
from ...probe import ProbeContext, expect_status, json_of
from ...protocol import remote_write

PUSH = "/api/v1/push"
QUERY = "/prometheus/api/v1/query"
METRIC = "lgtm_smoke_probe"
LABELS = {"__name__": METRIC, "job": "lgtm-smoke", "check": "mimir", "synthetic": "true"}


def run_value(run_id: str) -> float:
    """The run id as a sample value: 48 bits fit a float64 exactly."""
    return float(int(run_id, 16))


def out_of_order(ex: Exchange) -> bool:
    # Another run wrote the same series a moment later: push again with a fresh timestamp.
    t = ex.text.lower()
    return ex.status == 400 and ("out of order" in t or "out-of-order" in t or "duplicate sample" in t
                                 or "duplicate-timestamp" in t)


def parse_prom_json(ex: Exchange, phase: str) -> dict:
    data = json_of(ex, phase, "Prometheus")
    if not isinstance(data, dict) or data.get("status") != "success":
        got = data.get("status") if isinstance(data, dict) else data
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → status {got!r}: "
                          f"{data.get('error') if isinstance(data, dict) else ex.preview(120)}")
    return data["data"]


def encode_sample(labels: dict[str, str], value: float, ts_ms: int) -> bytes:
    return remote_write.encode([remote_write.Series(labels, value, ts_ms)])


def push_sample(ctx: ProbeContext, check: str, what: str) -> tuple[str, float, int]:
    """Remote-write this run's value on the fixed series for `check`, as the run's tenant;
    returns (PromQL selector, value, sample timestamp in ms)."""
    labels = {**LABELS, "check": check}
    value = run_value(ctx.run_id)
    sent = {}

    def send() -> Exchange:
        sent["ts"] = int(time.time() * 1000)
        return ctx.client.post(PUSH, data=encode_sample(labels, value, sent["ts"]), headers=remote_write.HEADERS)

    ctx.push(send, retry_on=out_of_order, what=what)
    return f'{METRIC}{{job="lgtm-smoke",check="{check}"}}', value, sent["ts"]


def query(ctx: ProbeContext, promql: str, ts_ms: int, tenant: str | None = None, path: str = QUERY) -> tuple[Exchange, list]:
    """An instant query at the sample's time: (exchange, result vector)."""
    ex = ctx.client.get(path, tenant=tenant or ctx.tenant, params={"query": promql, "time": f"{ts_ms / 1000:.3f}"})
    return ex, parse_prom_json(expect_status(ex, "read"), "read")["result"]
