"""Every check that touches Tempo: a 3-span trace by the real OTel SDK read back by id (v1
and v2) and found by TraceQL search, tenant isolation, the missing-tenant answers Tempo
really gives (OTLP receiver 503, query API 401), garbage to the OTLP path, and the read
through Grafana's datasource."""
from __future__ import annotations

import time

from ...outcome import CheckFailed, check
from ...probe import NotYetVisible, ProbeContext, expect_now, expect_status, failed, route_miss
from ...protocol.otlp import one_span_request
from .. import security
from ..grafana import client as grafana
from . import client as tempo

AREA = "tempo"
NO_AUTH_FOLDER = "single-tenant/"
OTLP_NEEDS = ("alb", "target_group.tempo-otlp")
API_NEEDS = ("alb", "target_group.tempo")
BOTH = ("alb", "target_group.tempo-otlp", "target_group.tempo")


@check("tempo.trace", needs=BOTH)
def trace(ctx: ProbeContext) -> dict:
    sent = tempo.send_trace(ctx, "trace")
    tid = sent["trace_id"]

    def fetch() -> dict:
        v1, batches = tempo.trace_by_id(ctx, f"/tempo/api/traces/{tid}")
        if not batches:
            raise NotYetVisible(v1, "404 with an empty body (Tempo: no such trace yet)" if v1.status == 404
                                else "200 with an empty trace")
        shape = tempo.verify_shape(v1, batches, ctx.run_id)
        v2, resource_spans = tempo.trace_by_id(ctx, f"/tempo/api/v2/traces/{tid}")
        if not resource_spans:
            raise NotYetVisible(v2, "v1 has the trace, v2 answers 404 with an empty body" if v2.status == 404
                                else "v1 has the trace, v2 answers an empty trace")
        tempo.verify_shape(v2, resource_spans, ctx.run_id)
        return {"trace_id": tid, **shape, "v1": "batches", "v2": "trace.resourceSpans", "exports": sent["exports"]}

    return ctx.read_back(fetch, what=f"trace {tid} (3 spans)")


SEARCH_POLL = 0.1


@check("tempo.search", needs=BOTH, leads=True)
def search(ctx: ProbeContext) -> dict:
    tid = tempo.send_trace(ctx, "search")["trace_id"]
    q = (f'{{ resource.service.name = "{tempo.SERVICE}" && span.{tempo.RUN_ATTR} = "{ctx.run_id}" '
         f'&& span.{tempo.CHECK_ATTR} = "search" }}')
    start = int(time.time()) - 300

    def fetch() -> dict:
        params = {"q": q, "start": str(start), "end": str(int(time.time()) + 1), "limit": "20"}
        ex = ctx.client.get("/tempo/api/search", params=params)
        data = tempo.tempo_json(expect_status(ex, "read"), "search")
        ids = [t.get("traceID", "") for t in data.get("traces") or []]
        if tid.lstrip("0") not in [i.lstrip("0") for i in ids]:
            raise NotYetVisible(ex, f"{len(ids)} trace(s), not {tid} (search covers completed traces only)")
        hit = next(t for t in data["traces"] if t.get("traceID", "").lstrip("0") == tid.lstrip("0"))
        if hit.get("rootServiceName") != tempo.SERVICE or hit.get("rootTraceName") != tempo.SPAN_NAMES[0]:
            raise CheckFailed(f"read: {ex.method} {ex.path} → 200: trace {tid} found with root service "
                              f"{hit.get('rootServiceName')!r} / root span {hit.get('rootTraceName')!r}, expected "
                              f"{tempo.SERVICE!r} / {tempo.SPAN_NAMES[0]!r}", [f"response body: {ex.preview()}"])
        return {"trace_id": tid, "query": q, "found": len(ids)}

    # Search finds a trace only once the ingester completed it (seconds): poll at most every
    # SEARCH_POLL s, so the run ends that close after it (five minutes of one tenant: a cheap search)
    return ctx.read_back(fetch, what=f"trace {tid} in TraceQL search", timeout=ctx.settings.search_timeout,
                         poll_cap=SEARCH_POLL)


@check("tempo.isolation", needs=BOTH)
def isolation(ctx: ProbeContext) -> dict:
    trace_id = tempo.push_span(ctx, security.ISOLATION_CHECK)
    path = f"/tempo/api/traces/{trace_id}"

    def own() -> dict:
        ex, batches = tempo.trace_by_id(ctx, path)
        if not batches:
            raise NotYetVisible(ex, "404 (no trace yet)" if ex.status == 404 else "an empty trace")
        return {}

    ctx.read_back(own, what=f"trace {trace_id} as its own tenant (before the isolation test)")
    other = ctx.settings.other_tenant
    ex = ctx.client.get(path, tenant=other, headers={"Accept": "application/json"})
    if ex.status == 200 and tempo.tempo_json(ex, "trace-by-id").get("batches"):
        raise CheckFailed(f"isolation: GET {path} (tenant {other!r}) → 200 returned tenant {ctx.tenant!r}'s "
                          "trace: Tempo ignores X-Scope-OrgID on queries — anyone who sets any tenant id reads "
                          "every tenant's traces", [f"response body: {ex.preview()}"])
    if ex.status not in (200, 404):
        expect_now(ex, "isolation", ok=(404,))
    return {"trace_id": trace_id, "own_tenant": ctx.tenant, "other_tenant": other, "other_sees": 0}


@check("tempo.no_tenant_otlp", needs=OTLP_NEEDS)
def no_tenant_otlp(ctx: ProbeContext) -> dict:
    body = one_span_request(ctx.run_id, security.NO_TENANT_CHECK)
    ex = tempo.past_blips(lambda: ctx.client.post(tempo.OTLP, data=body, tenant=None, settle=False,
                                                  headers={"Content-Type": "application/x-protobuf"}))
    return security.expect_no_org_id(ex, "tempo", "an OTLP trace", NO_AUTH_FOLDER, status=503, accepted=(
        f"Tempo accepted an OTLP trace without a tenant — multitenancy is off; it lands under {NO_AUTH_FOLDER} in "
        "the S3 bucket, readable by anyone without a tenant"))


@check("tempo.no_tenant_query", needs=API_NEEDS)
def no_tenant_query(ctx: ProbeContext) -> dict:
    now = int(time.time())
    ex = ctx.client.get("/tempo/api/search", tenant=None, params={
        "q": f'{{ resource.service.name = "{tempo.SERVICE}" }}', "start": str(now - 300), "end": str(now)})
    if route_miss(ex):  # the one classification: a 404 with a body is not Tempo's answer
        raise failed(ex, "no tenant", None)
    return security.expect_no_org_id(ex, "tempo", "a trace search", NO_AUTH_FOLDER)


@check("tempo.garbage", needs=BOTH)
def garbage(ctx: ProbeContext) -> dict:
    return security.garbage("tempo", [
        ("a body that is not OTLP protobuf", lambda: ctx.client.post(
            tempo.OTLP, data=security.GARBAGE, headers={"Content-Type": "application/x-protobuf"})),
    ], lambda: ctx.client.get("/tempo/api/echo"))


@check("tempo.grafana_proxy", needs=(*OTLP_NEEDS, "grafana.login"))
def grafana_proxy(ctx: ProbeContext) -> dict:
    ds = grafana.find_datasource(ctx, "tempo")
    trace_id = tempo.push_span(ctx, grafana.PROXY_CHECK)

    def fetch() -> dict:
        ex = expect_status(grafana.proxy(ctx, "GET", ds["uid"], f"/api/traces/{trace_id}"), "read", ok=(200, 404))
        if ex.status == 404 or not tempo.tempo_json(ex, "trace-by-id").get("batches"):
            raise NotYetVisible(ex, "404 (no trace yet)" if ex.status == 404 else "an empty trace")
        return {"datasource": ds["name"], "uid": ds["uid"], "trace_id": trace_id}

    return grafana.via(ds, lambda: ctx.read_back(fetch, what=f"trace {trace_id} via Grafana"))


grafana_datasource = grafana.datasource_check_for(AREA)
