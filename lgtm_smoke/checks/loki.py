"""Loki: push one line as JSON and one as snappy protobuf, read both back exactly."""
from __future__ import annotations

import time

from ..protocol import loki_push
from ..probes import CheckFailed, NotYetVisible, ProbeContext, expect_status, probe

JOB = "lgtm-smoke"


def probe_line(run_id: str, check: str) -> str:
    return f"lgtm-smoke synthetic probe check={check} run={run_id} level=info"


def _round_trip(ctx: ProbeContext, check: str, encode, headers: dict) -> dict:
    labels = {"job": JOB, "check": check}  # fixed stream labels; the run id is in the line
    line = probe_line(ctx.run_id, check)
    ts = time.time_ns()
    body = encode([loki_push.Stream(labels, [(ts, line)])])
    ctx.push(lambda: ctx.client.post("/loki/api/v1/push", data=body, headers=headers), what=f"{check} push")
    query = f'{{job="{JOB}", check="{check}"}} |= "run={ctx.run_id}"'
    params = {"query": query, "start": str(ts - 300 * 10**9), "end": str(time.time_ns() + 60 * 10**9),
              "limit": "10", "direction": "backward"}

    def fetch() -> dict:
        ex = expect_status(ctx.client.get("/loki/api/v1/query_range", params=params), "read")
        try:
            data = ex.json()["data"]
            lines = [v[1] for stream in data["result"] for v in stream["values"]]
        except (ValueError, KeyError, TypeError, IndexError):
            raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} is not Loki's streams JSON: {ex.preview(120)}")
        if line not in lines:
            raise NotYetVisible(ex, f"{len(lines)} matching line(s){': ' + repr(lines[0]) if lines else ''}")
        return {"query": query, "line": line, "streams": len(data["result"])}

    return ctx.read_back(fetch, what=f"line {line!r}")


@probe("loki.push_json", backend="loki")
def push_json(ctx: ProbeContext) -> dict:
    return _round_trip(ctx, "loki-json", loki_push.encode_json, loki_push.JSON_HEADERS)


@probe("loki.push_protobuf", backend="loki")
def push_protobuf(ctx: ProbeContext) -> dict:
    return _round_trip(ctx, "loki-proto", loki_push.encode_protobuf, loki_push.PROTOBUF_HEADERS)
