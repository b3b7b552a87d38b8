"""Tempo: a 3-span trace made by the real OpenTelemetry SDK and sent with the real OTLP/HTTP
exporter through the ALB, read back by id (v1 and v2), found by TraceQL search, and the
missing-tenant answers Tempo really gives (OTLP receiver 503, query API 401).

Cardinality stays bounded: fixed service name, span names and attribute keys; the run id
is a span attribute *value* (trace data, never a label or a metric series).
"""
from __future__ import annotations

import logging
import time

import requests

from ..hints import hint
from ..http import Exchange, _classify
from ..probes import PUSH_ATTEMPTS, CheckFailed, NotYetVisible, ProbeContext, Transient, expect_status, probe

SERVICE = "lgtm-smoke"
SPAN_NAMES = ("lgtm-smoke root", "lgtm-smoke child", "lgtm-smoke grandchild")
RUN_ATTR, CHECK_ATTR = "lgtm_smoke.run", "lgtm_smoke.check"
EXPORT_TIMEOUT = 2.0  # the exporter's own deadline: 2 tries (now, ~1 s) on 429/5xx, as real apps do; a dead
# Tempo then costs ~1 s, not the read-back deadline
# Search covers completed traces only: trace_idle_period (5 s) + flush_check_period (10 s) and a
# block flush; on a real stack that is ~15-30 s. Its own deadline, never --readback-timeout.
MISROUTED = (" — /v1/traces reached a Tempo port without an OTLP receiver: does the ALB rule forward it to the API "
             "target group (3200) instead of the OTLP receiver's (4318)?")


class RecordingSession(requests.Session):
    """The session handed to OTLPSpanExporter: every answer it gets is kept as an Exchange,
    because the exporter itself only logs failures."""

    def __init__(self, path: str, tenant: str | None):
        super().__init__()
        self.path, self.tenant = path, tenant
        self.exchanges: list[Exchange] = []
        self.errors: list[Exception] = []
        self.headers["User-Agent"] = "lgtm-smoke (opentelemetry-exporter-otlp-proto-http)"

    def request(self, method, url, *args, **kwargs):
        t0 = time.monotonic()
        try:
            r = super().request(method, url, *args, **kwargs)
        except requests.RequestException as e:
            self.errors.append(e)
            raise
        self.exchanges.append(Exchange(method, self.path, self.tenant, r.status_code, r.headers.get("Content-Type", ""),
                                       r.content, time.monotonic() - t0))
        return r


def send_trace(ctx: ProbeContext, check: str) -> dict:
    """Make root → child → grandchild with the OTel SDK, force-flush it through the OTLP/HTTP
    exporter and fail the push phase with Tempo's status and body unless it answered 2xx."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    path, tenant = "/v1/traces", ctx.config.tenant
    session = RecordingSession(path, tenant)
    exporter = OTLPSpanExporter(endpoint=ctx.config.alb.url(path), headers={"X-Scope-OrgID": tenant},
                                session=session, timeout=EXPORT_TIMEOUT)
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    tracer = provider.get_tracer("lgtm_smoke.checks.tempo")
    attrs = {RUN_ATTR: ctx.run_id, CHECK_ATTR: check}
    ctx.phase, ctx.pushed_at = "push", time.monotonic()
    logging.getLogger("opentelemetry.exporter.otlp.proto.http").setLevel(logging.CRITICAL)  # we report instead
    logging.getLogger("opentelemetry.exporter.otlp.common").setLevel(logging.CRITICAL)
    try:
        with tracer.start_as_current_span(SPAN_NAMES[0], attributes=attrs) as root:
            with tracer.start_as_current_span(SPAN_NAMES[1], attributes=attrs):
                with tracer.start_as_current_span(SPAN_NAMES[2], attributes=attrs):
                    time.sleep(0.001)
        flushed = provider.force_flush(timeout_millis=int(EXPORT_TIMEOUT * 1000) + 2000)
    finally:
        provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")
    last = session.exchanges[-1] if session.exchanges else None
    if last is not None and 200 <= last.status < 300:
        ctx.push_ok = True
        ctx.pushed_at = time.monotonic()  # push→visible latency counts from the accepted export
        return {"trace_id": trace_id, "exports": len(session.exchanges)}
    ctx.push_ok = False
    if last is None:
        reason = str(_classify(session.errors[-1], ctx.config.alb)) if session.errors else \
            f"the exporter sent nothing (force_flush returned {flushed})"
        raise CheckFailed(f"push: OTLP export POST {path}: {reason}")
    tries = f" after {len(session.exchanges)} attempts" if last.status == 429 or last.status >= 500 else ""
    raise CheckFailed(f"push: OTLP export POST {path} ({_who(tenant)}) → {last.status}{tries}, expected 2xx: "
                      f"{last.preview(120)}{_why(last)}", f"response body: {last.preview()}")


def _who(tenant: str | None) -> str:
    return f"tenant {tenant!r}" if tenant else "no tenant"


def _tempo_404(ex: Exchange) -> None:
    """A 404 with a body is a routing answer, never Tempo's 'no such trace' (which has none)."""
    if ex.status == 404 and ex.body.strip():
        raise CheckFailed(f"read: {ex.method} {ex.path} ({_who(ex.tenant)}) → 404: {ex.preview(120)}"
                          f"{hint(ex, 'read')}", f"response body: {ex.preview()}")


def _json(ex: Exchange, what: str) -> dict:
    try:
        data = ex.json()
    except ValueError:
        raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} is not Tempo's {what} JSON: {ex.preview(120)}")
    if not isinstance(data, dict):
        raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} is not Tempo's {what} JSON: {ex.preview(120)}")
    return data


def spans_of(batches: list[dict]) -> list[dict]:
    """Flatten OTLP JSON resource spans into [{name, spanId, parentSpanId, service, attrs}]."""
    from ..protocol.otlp import attrs

    out = []
    for rs in batches:
        service = attrs(rs.get("resource", {}).get("attributes")).get("service.name")
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []:
            for span in ss.get("spans", []):
                out.append({"name": span.get("name"), "spanId": span.get("spanId", ""),
                            "parentSpanId": span.get("parentSpanId", ""), "service": service,
                            "attrs": attrs(span.get("attributes"))})
    return out


def verify_shape(ex: Exchange, batches: list[dict], run_id: str) -> dict:
    """The three spans, their parent links, service.name and this run's id; CheckFailed otherwise."""
    spans = spans_of(batches)
    by_name = {s["name"]: s for s in spans}
    where = f"{ex.method} {ex.path} → {ex.status}"
    missing = [n for n in SPAN_NAMES if n not in by_name]
    if missing:
        raise NotYetVisible(ex, f"{len(spans)} span(s) {sorted(by_name)}; missing {missing}")
    root, child, grand = (by_name[n] for n in SPAN_NAMES)
    problems = []
    if root["parentSpanId"]:
        problems.append(f"root has parent {root['parentSpanId']!r}")
    if child["parentSpanId"] != root["spanId"]:
        problems.append(f"child's parent {child['parentSpanId']!r} is not root {root['spanId']!r}")
    if grand["parentSpanId"] != child["spanId"]:
        problems.append(f"grandchild's parent {grand['parentSpanId']!r} is not child {child['spanId']!r}")
    for s in (root, child, grand):
        if s["service"] != SERVICE:
            problems.append(f"{s['name']!r} has service.name {s['service']!r}, expected {SERVICE!r}")
        if s["attrs"].get(RUN_ATTR) != run_id:
            problems.append(f"{s['name']!r} has {RUN_ATTR}={s['attrs'].get(RUN_ATTR)!r}, expected {run_id!r}")
    if problems:
        raise CheckFailed(f"read: {where}: the trace came back altered: {'; '.join(problems)}",
                          f"response body: {ex.preview()}")
    return {"spans": len(spans), "root_span_id": root["spanId"]}


@probe("tempo.trace", backend="tempo")
def trace_round_trip(ctx: ProbeContext) -> dict:
    sent = send_trace(ctx, "trace")
    tid = sent["trace_id"]

    def fetch() -> dict:
        v1 = ctx.client.get(f"/tempo/api/traces/{tid}", headers={"Accept": "application/json"})
        _tempo_404(v1)
        expect_status(v1, "read", ok=(200, 404))
        if v1.status == 404:
            raise NotYetVisible(v1, "404 with an empty body (Tempo: no such trace yet)")
        batches = _json(v1, "trace-by-id").get("batches") or []
        if not batches:
            raise NotYetVisible(v1, "200 with an empty trace")
        shape = verify_shape(v1, batches, ctx.run_id)
        v2 = ctx.client.get(f"/tempo/api/v2/traces/{tid}", headers={"Accept": "application/json"})
        _tempo_404(v2)
        expect_status(v2, "read", ok=(200, 404))
        if v2.status == 404:
            raise NotYetVisible(v2, "v1 has the trace, v2 answers 404 with an empty body")
        rs = (_json(v2, "v2 trace-by-id").get("trace") or {}).get("resourceSpans") or []
        if not rs:
            raise NotYetVisible(v2, "v1 has the trace, v2 answers an empty trace")
        verify_shape(v2, rs, ctx.run_id)
        return {"trace_id": tid, **shape, "v1": "batches", "v2": "trace.resourceSpans", "exports": sent["exports"]}

    return ctx.read_back(fetch, what=f"trace {tid} (3 spans)")


@probe("tempo.search", backend="tempo")
def search_round_trip(ctx: ProbeContext) -> dict:
    sent = send_trace(ctx, "search")
    tid = sent["trace_id"]
    q = f'{{ resource.service.name = "{SERVICE}" && span.{RUN_ATTR} = "{ctx.run_id}" && span.{CHECK_ATTR} = "search" }}'
    start = int(time.time()) - 300

    def fetch() -> dict:
        params = {"q": q, "start": str(start), "end": str(int(time.time()) + 1), "limit": "20"}
        ex = ctx.client.get("/tempo/api/search", params=params)
        _tempo_404(ex)
        data = _json(expect_status(ex, "read"), "search")
        ids = [t.get("traceID", "") for t in data.get("traces") or []]
        if tid.lstrip("0") not in [i.lstrip("0") for i in ids]:
            raise NotYetVisible(ex, f"{len(ids)} trace(s), not {tid} (search covers completed traces only)")
        hit = next(t for t in data["traces"] if t.get("traceID", "").lstrip("0") == tid.lstrip("0"))
        if hit.get("rootServiceName") != SERVICE or hit.get("rootTraceName") != SPAN_NAMES[0]:
            raise CheckFailed(f"read: {ex.method} {ex.path} → 200: trace {tid} found with root service "
                              f"{hit.get('rootServiceName')!r} / root span {hit.get('rootTraceName')!r}, expected "
                              f"{SERVICE!r} / {SPAN_NAMES[0]!r}", f"response body: {ex.preview()}")
        return {"trace_id": tid, "query": q, "found": len(ids)}

    return ctx.read_back(fetch, what=f"trace {tid} in TraceQL search", timeout=ctx.config.search_timeout)


def once_past_blips(send) -> Exchange:
    """One request, repeated only while the answer is 429/5xx other than the one we expect (503
    for OTLP is the expected answer, so only 502/504/429 are retried here)."""
    ex = send()
    for attempt in range(1, PUSH_ATTEMPTS):
        if ex.status not in (429, 502, 504) and not (ex.status == 503 and "no org id" not in ex.text.lower()):
            break
        time.sleep(0.05 * 2 ** (attempt - 1))
        ex = send()
    return ex


def expect_rejected(ex: Exchange, status: int, what: str, folder: str) -> dict:
    if ex.status == status and "no org id" in ex.text.lower():
        return {"request": f"{ex.method} {ex.path}", "status": ex.status, "answer": ex.preview(80)}
    if 200 <= ex.status < 300:
        raise CheckFailed(f"no tenant: {ex.method} {ex.path} (no X-Scope-OrgID) → {ex.status}: Tempo accepted {what} "
                          f"without a tenant — multitenancy is off; it lands in {folder} of the bucket, readable "
                          "by anyone without a tenant", f"response body: {ex.preview()}")
    if ex.status >= 500 or ex.status == 429:
        raise Transient(ex, str(ex.status))
    raise CheckFailed(f"no tenant: {ex.method} {ex.path} (no X-Scope-OrgID) → {ex.status}, expected {status} "
                      f"'no org id': {ex.preview(120)}{_why(ex)}", f"response body: {ex.preview()}")


def _why(ex: Exchange) -> str:
    if ex.status == 404 and "404 page not found" in ex.text and ex.path.startswith("/v1/traces"):
        return MISROUTED
    if ex.status == 503 and "no org id" in ex.text.lower() and ex.tenant:
        return (" — the X-Scope-OrgID header did not reach Tempo (its OTLP receiver answers a missing tenant "
                "with 503, not 401): is something between the client and Tempo dropping it?")
    return hint(ex, ex.method == "GET" and "read" or "push")


@probe("tempo.no_tenant", backend="tempo")
def no_tenant(ctx: ProbeContext) -> dict:
    """OTLP without X-Scope-OrgID: 503 `no org id`; a query without it: 401 `no org id`."""
    from ..protocol.otlp import one_span_request

    ctx.phase = "push"
    body = one_span_request(ctx.run_id, "no-tenant")
    otlp = once_past_blips(lambda: ctx.client.post("/v1/traces", data=body, tenant=None, settle=False,
                                                   headers={"Content-Type": "application/x-protobuf"}))
    evidence = {}
    try:
        evidence["otlp"] = expect_rejected(otlp, 503, "an OTLP trace", "single-tenant/")
    except Transient as e:
        raise CheckFailed(f"no tenant: {otlp.method} {otlp.path} (no X-Scope-OrgID) → {otlp.status} after "
                          f"{PUSH_ATTEMPTS} attempts, expected 503 'no org id': {otlp.preview(120)}"
                          f"{hint(otlp, 'push')}") from e
    ctx.phase = "read"
    now = int(time.time())
    query = once_past_blips(lambda: ctx.client.get("/tempo/api/search", tenant=None, params={
        "q": f'{{ resource.service.name = "{SERVICE}" }}', "start": str(now - 300), "end": str(now)}))
    _tempo_404(query)
    try:
        evidence["query"] = expect_rejected(query, 401, "a search", "single-tenant/")
    except Transient as e:
        raise CheckFailed(f"no tenant: {query.method} {query.path} (no X-Scope-OrgID) → {query.status} after "
                          f"{PUSH_ATTEMPTS} attempts, expected 401 'no org id': {query.preview(120)}"
                          f"{hint(query, 'read')}") from e
    return evidence
