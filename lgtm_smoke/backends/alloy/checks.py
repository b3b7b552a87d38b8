"""The collector path: is Alloy, the stack's own collector, writing its self-metrics to Mimir
and its logs to Loki under the suite's tenant? Read through the ALB like any client; nothing
is pushed. What to query comes from the shipped Alloy config (facts.py / collector.json).

A stopped Alloy shows as a stale last sample; an Alloy on another tenant as no series at all
under this one (Alloy's tenant is the `LGTM_TENANT_ID` of its task definition).
"""

from __future__ import annotations

import time

from ...outcome import Check, CheckFailed
from ...probe import ProbeContext, expect_now, json_of
from ..mimir import client as mimir
from . import facts

AREA = "alloy"
LOOKBACK_S = 3600  # how far back to look for the last sample / line when the fresh one is missing


def _tenant_hint(ctx: ProbeContext) -> str:
    env = facts.load()["tenant_env"]
    return f"Alloy writes as {env} of its task definition; it must be {ctx.tenant!r}"


def _self_metrics_fresh(ctx: ProbeContext) -> dict:
    f = facts.load()["metrics"]
    sel, interval = f["selector"], int(f["scrape_interval_seconds"])
    limit = 2 * interval
    now = time.time()
    _, result = mimir.query(ctx, f"timestamp({sel})", int(now * 1000))
    if not result:  # nothing within Mimir's 5-minute lookback: find the last sample, if any
        _, result = mimir.query(ctx, f"max_over_time(timestamp({sel})[{LOOKBACK_S}s:{interval}s])", int(now * 1000))
    if not result:
        raise CheckFailed(
            f"Alloy's self-metrics {sel} are not in Mimir under tenant {ctx.tenant!r} (none in the last "
            f"{LOOKBACK_S // 60} min): Alloy is not running, or writes to another tenant — {_tenant_hint(ctx)}"
        )
    last = max(float(r["value"][1]) for r in result)
    age = now - last
    if age > limit:
        raise CheckFailed(
            f"Alloy's last self-metric sample under tenant {ctx.tenant!r} is {age:.0f}s old (limit {limit}s "
            f"= 2 × scrape_interval {interval}s): Alloy stopped scraping or writing — check the alloy "
            "ECS service and its logs"
        )
    return {
        "selector": sel,
        "tenant": ctx.tenant,
        "age_s": round(age, 1),
        "limit_s": limit,
        "instances": sorted({r["metric"].get("instance", "") for r in result}),
    }


def _logs_in_loki(ctx: ProbeContext) -> dict:
    sel = facts.load()["logs"]["selector"]
    now = time.time()
    ex = ctx.client.get(
        "/loki/api/v1/query_range",
        params={
            "query": sel,
            "limit": "1",
            "direction": "backward",
            "start": str(int((now - LOOKBACK_S) * 1e9)),
            "end": str(int(now * 1e9)),
        },
    )
    data = json_of(expect_now(ex, "read"), "read", "Loki")
    newest = [int(v[0]) for s in (data.get("data") or {}).get("result") or [] for v in s.get("values") or []]
    if not newest:
        raise CheckFailed(
            f"Alloy's logs {sel} are not in Loki under tenant {ctx.tenant!r} (none in the last "
            f"{LOOKBACK_S // 60} min): Alloy is not running, or writes to another tenant — {_tenant_hint(ctx)}"
        )
    # Alloy logs on events, not on a timer: the newest line's age is evidence, not a limit.
    return {"selector": sel, "tenant": ctx.tenant, "newest_line_age_s": round(now - max(newest) / 1e9, 1)}


self_metrics_fresh = Check(
    "alloy.self_metrics_fresh",
    AREA,
    _self_metrics_fresh,
    needs=("alb", "target_group.mimir"),
    doc="Alloy's prometheus.exporter.self series is in Mimir under the suite's tenant, its last "
    "sample no older than two scrape intervals.",
)
logs_in_loki = Check(
    "alloy.logs_in_loki",
    AREA,
    _logs_in_loki,
    needs=("alb", "target_group.loki"),
    doc="Alloy's own log lines are in Loki under the suite's tenant (within the last hour).",
)
