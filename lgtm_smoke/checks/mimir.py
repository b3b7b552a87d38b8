"""Mimir: remote-write one sample through the ALB, read it back with PromQL."""
from __future__ import annotations

import json
import time

from ..protocol import remote_write
from ..probes import CheckFailed, NotYetVisible, ProbeContext, expect_status, probe

METRIC = "lgtm_smoke_probe"
# Fixed series: the run lives in the sample value, never in a label (bounded cardinality).
LABELS = {"__name__": METRIC, "job": "lgtm-smoke", "check": "mimir", "synthetic": "true"}


def run_value(run_id: str) -> float:
    """The run id as a sample value: 48 bits fit a float64 exactly."""
    return float(int(run_id, 16))


def _out_of_order(ex) -> bool:
    # Another run wrote the same series a moment later: push again with a fresh timestamp.
    t = ex.text.lower()
    return ex.status == 400 and ("out of order" in t or "out-of-order" in t or "duplicate sample" in t
                                 or "duplicate-timestamp" in t)


def parse_prom_json(ex, phase: str) -> dict:
    try:
        data = ex.json()
    except (ValueError, json.JSONDecodeError):
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → {ex.status} is not Prometheus JSON: {ex.preview(120)}")
    if data.get("status") != "success":
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → status {data.get('status')!r}: {data.get('error')}")
    return data["data"]


def push_sample(ctx: ProbeContext, check: str, what: str) -> tuple[str, float, int]:
    """Remote-write this run's value on the fixed series for `check`, as the run's tenant;
    returns (PromQL selector, value, sample timestamp in ms)."""
    labels = {**LABELS, "check": check}
    value = run_value(ctx.run_id)
    sent = {}

    def send():
        sent["ts"] = int(time.time() * 1000)
        body = remote_write.encode([remote_write.Series(labels, value, sent["ts"])])
        return ctx.client.post("/api/v1/push", data=body, headers=remote_write.HEADERS)

    ctx.push(send, retry_on=_out_of_order, what=what)
    return f'{METRIC}{{job="lgtm-smoke",check="{check}"}}', value, sent["ts"]


@probe("mimir.remote_write", backend="mimir")
def remote_write_round_trip(ctx: ProbeContext) -> dict:
    query, value, ts = push_sample(ctx, "mimir", "remote write")

    def fetch() -> dict:
        ex = ctx.client.get("/prometheus/api/v1/query", params={"query": query, "time": f"{ts / 1000:.3f}"})
        result = parse_prom_json(expect_status(ex, "read"), "read")["result"]
        if not result:
            raise NotYetVisible(ex, "no series")
        got = result[0]["value"][1]
        if float(got) != value:
            raise NotYetVisible(ex, f"value {got} (expected {value:.0f}, this run's id {ctx.run_id})")
        return {"query": query, "value": got, "expected": f"{value:.0f}", "timestamp_ms": ts}

    return ctx.read_back(fetch, what=f"sample {query} = {value:.0f}")
