"""Every check that touches Loki: both push formats read back exactly, tenant isolation, a
push without a tenant, garbage to the push path, and the read through Grafana's datasource."""
from __future__ import annotations

import time

from ...outcome import check
from ...probe import NotYetVisible, ProbeContext
from ...protocol import loki_push
from .. import security
from ..grafana import client as grafana
from . import client as loki

AREA = "loki"
NO_AUTH_FOLDER = "fake/"
NEEDS = ("alb", "target_group.loki")


def _round_trip(ctx: ProbeContext, check: str, encode, headers: dict) -> dict:
    line, ts = loki.push_line(ctx, check, f"{check} push", encode, headers)
    params = loki.query_params(check, ctx.run_id, ts)

    def fetch() -> dict:
        ex = ctx.client.get(loki.QUERY_RANGE, params=params)
        lines, streams = loki.lines_of(ex)
        if line not in lines:
            raise NotYetVisible(ex, f"{len(lines)} matching line(s){': ' + repr(lines[0]) if lines else ''}")
        return {"query": params["query"], "line": line, "streams": streams}

    return ctx.read_back(fetch, what=f"line {line!r}")


@check("loki.isolation", needs=NEEDS)
def isolation(ctx: ProbeContext) -> dict:
    line, ts = loki.push_line(ctx, security.ISOLATION_CHECK, "loki push as tenant A")
    params = loki.query_params(security.ISOLATION_CHECK, ctx.run_id, ts)

    def query_as(tenant: str):
        ex = ctx.client.get(loki.QUERY_RANGE, tenant=tenant, params=params)
        return ex, [x for x in loki.lines_of(ex)[0] if x == line]

    return {"query": params["query"], **security.isolated(
        ctx, query_as, "0 matching line(s)", f"line {line!r}",
        "line: Loki ignores X-Scope-OrgID on queries — anyone who sets any tenant id reads every tenant's logs")}


@check("loki.no_tenant", needs=NEEDS)
def no_tenant(ctx: ProbeContext) -> dict:
    body = loki.stream_body(security.NO_TENANT_CHECK, loki.probe_line(ctx.run_id, security.NO_TENANT_CHECK),
                            time.time_ns())
    ex = ctx.client.post(loki.PUSH, data=body, headers=loki_push.JSON_HEADERS, tenant=None)
    return security.expect_no_org_id(ex, "loki", "a log push", NO_AUTH_FOLDER)


@check("loki.garbage", needs=NEEDS)
def garbage(ctx: ProbeContext) -> dict:
    return security.garbage("loki", [
        ("truncated JSON", lambda: ctx.client.post(loki.PUSH, data=b'{"streams": [{"stream": {"job"',
                                                   headers=loki_push.JSON_HEADERS)),
        ("a body that is not snappy protobuf", lambda: ctx.client.post(loki.PUSH, data=security.GARBAGE,
                                                                       headers=loki_push.PROTOBUF_HEADERS)),
    ], lambda: ctx.client.get(loki.LABELS_PATH))


@check("loki.grafana_proxy", needs=(*NEEDS, "grafana.login"))
def grafana_proxy(ctx: ProbeContext) -> dict:
    ds = grafana.find_datasource(ctx, "loki")
    line, ts = loki.push_line(ctx, grafana.PROXY_CHECK, "loki push (for the proxy read)")
    params = loki.query_params(grafana.PROXY_CHECK, ctx.run_id, ts)

    def fetch() -> dict:
        ex = grafana.proxy(ctx, "GET", ds["uid"], loki.QUERY_RANGE, params=params)
        lines, _ = loki.lines_of(ex)
        if line not in lines:
            raise NotYetVisible(ex, f"{len(lines)} matching line(s)")
        return {"datasource": ds["name"], "uid": ds["uid"], "query": params["query"], "line": line}

    return grafana.via(ds, lambda: ctx.read_back(fetch, what=f"line {line!r} via Grafana"))


@check("loki.push_json", needs=NEEDS)
def push_json(ctx: ProbeContext) -> dict:
    return _round_trip(ctx, "loki-json", loki_push.encode_json, loki_push.JSON_HEADERS)


@check("loki.push_protobuf", needs=NEEDS)
def push_protobuf(ctx: ProbeContext) -> dict:
    return _round_trip(ctx, "loki-proto", loki_push.encode_protobuf, loki_push.PROTOBUF_HEADERS)


grafana_datasource = grafana.datasource_check_for(AREA)
