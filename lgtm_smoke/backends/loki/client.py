"""Loki through the ALB: push in (`/loki/api/v1/push`, JSON or snappy logproto) and LogQL
out (`/loki/api/v1/query_range`). Fixed stream labels; the run id is in the line."""
from __future__ import annotations

import time
from typing import Callable

from ...http import Exchange
from ...outcome import CheckFailed
from ...probe import ProbeContext, expect_status
from ...protocol import loki_push

PUSH = "/loki/api/v1/push"
QUERY_RANGE = "/loki/api/v1/query_range"
LABELS_PATH = "/loki/api/v1/labels"
JOB = "lgtm-smoke"


def probe_line(run_id: str, check: str) -> str:
    return f"lgtm-smoke synthetic probe check={check} run={run_id} level=info"


def stream_body(check: str, line: str, ts_ns: int, encode: Callable[[list[loki_push.Stream]], bytes] = loki_push.encode_json
                ) -> bytes:
    return encode([loki_push.Stream({"job": JOB, "check": check}, [(ts_ns, line)])])


def push_line(ctx: ProbeContext, check: str, what: str, encode: Callable[[list[loki_push.Stream]], bytes] = loki_push.encode_json,
              headers: dict[str, str] = loki_push.JSON_HEADERS) -> tuple[str, int]:
    """Push this run's line for `check` as the run's tenant; (line, its timestamp in ns)."""
    line, ts = probe_line(ctx.run_id, check), time.time_ns()
    body = stream_body(check, line, ts, encode)
    ctx.push(lambda: ctx.client.post(PUSH, data=body, headers=headers), what=what)
    return line, ts


def query_params(check: str, run_id: str, ts_ns: int) -> dict[str, str]:
    query = f'{{job="{JOB}", check="{check}"}} |= "run={run_id}"'
    return {"query": query, "start": str(ts_ns - 300 * 10**9), "end": str(time.time_ns() + 60 * 10**9),
            "limit": "10", "direction": "backward"}


def lines_of(ex: Exchange) -> tuple[list[str], int]:
    """(every line, number of streams) of a query_range streams answer."""
    expect_status(ex, "read")
    try:
        result = ex.json()["data"]["result"]
        return [v[1] for stream in result for v in stream["values"]], len(result)
    except (ValueError, KeyError, TypeError, IndexError):
        raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} is not Loki's streams JSON: {ex.preview(120)}") from None
