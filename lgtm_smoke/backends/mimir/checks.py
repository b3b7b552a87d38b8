"""Every check that touches Mimir: the remote-write round trip, tenant isolation, a write
without a tenant, garbage to the push path, and the read through Grafana's datasource."""
from __future__ import annotations

import time

from ...outcome import check
from ...probe import NotYetVisible, ProbeContext, expect_status
from ...protocol import remote_write
from .. import security
from ..grafana import client as grafana
from . import client as mimir

AREA = "mimir"
NO_AUTH_FOLDER = "anonymous/"
NEEDS = ("alb", "target_group.mimir")


@check("mimir.remote_write", needs=NEEDS)
def remote_write_round_trip(ctx: ProbeContext) -> dict:
    promql, value, ts = mimir.push_sample(ctx, "mimir", "remote write")

    def fetch() -> dict:
        ex, result = mimir.query(ctx, promql, ts)
        if not result:
            raise NotYetVisible(ex, "no series")
        got = result[0]["value"][1]
        if float(got) != value:
            raise NotYetVisible(ex, f"value {got} (expected {value:.0f}, this run's id {ctx.run_id})")
        return {"query": promql, "value": got, "expected": f"{value:.0f}", "timestamp_ms": ts}

    return ctx.read_back(fetch, what=f"sample {promql} = {value:.0f}")


@check("mimir.isolation", needs=NEEDS)
def isolation(ctx: ProbeContext) -> dict:
    promql, value, ts = mimir.push_sample(ctx, security.ISOLATION_CHECK, "remote write as tenant A")

    def query_as(tenant: str):
        ex, result = mimir.query(ctx, promql, ts, tenant=tenant)
        return ex, [r for r in result if float(r["value"][1]) == value]

    return {"query": promql, **security.isolated(
        ctx, query_as, "no series with this run's value", f"sample {promql} = {value:.0f}",
        f"sample (value {value:.0f}): Mimir ignores X-Scope-OrgID on queries — anyone who sets any tenant id "
        "reads every tenant's metrics")}


@check("mimir.no_tenant", needs=NEEDS)
def no_tenant(ctx: ProbeContext) -> dict:
    labels = {**mimir.LABELS, "check": security.NO_TENANT_CHECK}
    ex = ctx.client.post(mimir.PUSH, data=mimir.encode_sample(labels, 1.0, int(time.time() * 1000)),
                         headers=remote_write.HEADERS, tenant=None)
    return security.expect_no_org_id(ex, "mimir", "a remote write", NO_AUTH_FOLDER)


@check("mimir.garbage", needs=NEEDS)
def garbage(ctx: ProbeContext) -> dict:
    return security.garbage("mimir", [
        ("a body that is not snappy protobuf",
         lambda: ctx.client.post(mimir.PUSH, data=security.GARBAGE, headers=remote_write.HEADERS)),
    ], lambda: ctx.client.get(mimir.QUERY, params={"query": "vector(1)"}))


@check("mimir.grafana_proxy", needs=(*NEEDS, "grafana.login"))
def grafana_proxy(ctx: ProbeContext) -> dict:
    ds = grafana.find_datasource(ctx, "mimir")
    promql, value, ts = mimir.push_sample(ctx, grafana.PROXY_CHECK, "remote write (for the proxy read)")

    def fetch() -> dict:
        ex = grafana.proxy(ctx, "GET", ds["uid"], "/api/v1/query", params={"query": promql, "time": f"{ts / 1000:.3f}"})
        result = mimir.parse_prom_json(expect_status(ex, "read"), "read")["result"]
        if not result or float(result[0]["value"][1]) != value:
            raise NotYetVisible(ex, f"{len(result)} series without this run's value {value:.0f}")
        return {"datasource": ds["name"], "uid": ds["uid"], "query": promql, "value": result[0]["value"][1]}

    return grafana.via(ds, lambda: ctx.read_back(fetch, what=f"sample {promql} = {value:.0f} via Grafana"))


grafana_datasource = grafana.datasource_check_for(AREA)
