"""Tempo through the ALB: OTLP/HTTP in (`/v1/traces` → the OTLP receiver's target group,
by the real OpenTelemetry SDK exporter or a one-span OTLP/JSON body) and the query API out
(`/tempo/*`, prefix stripped by the ALB's url-rewrite): trace by id (v1 `batches`, v2
`trace.resourceSpans`) and TraceQL search.

Cardinality stays bounded: fixed service name, span names and attribute keys; the run id
is a span attribute *value* (trace data, never a label or a metric series).
"""
from __future__ import annotations

import json
import logging
import secrets
import time

from ... import retry
from ...http import Exchange, classify, recording_session
from ...outcome import CheckFailed
from ...probe import NotYetVisible, ProbeContext, expect_status, hint, json_of
from ...protocol.otlp import attrs

OTLP = "/v1/traces"
SERVICE = "lgtm-smoke"
SPAN_NAMES = ("lgtm-smoke root", "lgtm-smoke child", "lgtm-smoke grandchild")
RUN_ATTR, CHECK_ATTR = "lgtm_smoke.run", "lgtm_smoke.check"
EXPORT_TIMEOUT = 2.0  # the exporter's own deadline: 2 tries (now, ~1 s) on 429/5xx, as real apps do; a dead
# Tempo then costs ~1 s, not the read-back deadline


def why(ex: Exchange) -> str:
    """hint() with what only Tempo's answers tell."""
    if ex.status == 503 and "no org id" in ex.text.lower() and ex.tenant:
        return (" — the X-Scope-OrgID header did not reach Tempo (its OTLP receiver answers a missing tenant "
                "with 503, not 401): is something between the client and Tempo dropping it?")
    return hint(ex, "read" if ex.method == "GET" else "push")


def send_trace(ctx: ProbeContext, check: str) -> dict:
    """Make root → child → grandchild with the OTel SDK, force-flush it through the OTLP/HTTP
    exporter and fail the push phase with Tempo's status and body unless it answered 2xx."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tenant = ctx.tenant
    session = recording_session(ctx.client, OTLP, tenant)
    exporter = OTLPSpanExporter(endpoint=ctx.settings.alb.url(OTLP), headers={"X-Scope-OrgID": tenant},
                                session=session, timeout=EXPORT_TIMEOUT)
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    tracer = provider.get_tracer("lgtm_smoke.backends.tempo")
    span_attrs = {RUN_ATTR: ctx.run_id, CHECK_ATTR: check}
    ctx.phase, ctx.pushed_at = "push", time.monotonic()
    logging.getLogger("opentelemetry.exporter.otlp.proto.http").setLevel(logging.CRITICAL)  # we report instead
    logging.getLogger("opentelemetry.exporter.otlp.common").setLevel(logging.CRITICAL)
    try:
        with tracer.start_as_current_span(SPAN_NAMES[0], attributes=span_attrs) as root:
            with tracer.start_as_current_span(SPAN_NAMES[1], attributes=span_attrs):
                with tracer.start_as_current_span(SPAN_NAMES[2], attributes=span_attrs):
                    time.sleep(0.001)
        flushed = provider.force_flush(timeout_millis=int(EXPORT_TIMEOUT * 1000) + 2000)
    finally:
        provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")
    last = session.exchanges[-1] if session.exchanges else None
    if last is not None and 200 <= last.status < 300:
        ctx.accepted(at=time.monotonic())  # push→visible latency counts from the accepted export
        return {"trace_id": trace_id, "exports": len(session.exchanges)}
    ctx.push_ok = False
    if last is None:
        reason = str(classify(session.errors[-1], ctx.settings.alb)) if session.errors else \
            f"the exporter sent nothing (force_flush returned {flushed})"
        raise CheckFailed(f"push: OTLP export POST {OTLP}: {reason}")
    tries = f" after {len(session.exchanges)} attempts" if last.status == 429 or last.status >= 500 else ""
    raise CheckFailed(f"push: OTLP export POST {OTLP} ({last.who()}) → {last.status}{tries}, expected 2xx: "
                      f"{last.preview(120)}{why(last)}", [f"response body: {last.preview()}"])


def otlp_json_trace(run_id: str, trace_id: str | None = None, check: str = "no-tenant", now_ns: int | None = None,
                    duration_ns: int = 1_000_000) -> bytes:
    """A minimal valid OTLP/JSON ExportTraceServiceRequest (OTLP/HTTP accepts JSON) with one span ending now
    (or at `now_ns`)."""
    now = time.time_ns() if now_ns is None else now_ns
    trace_id = trace_id or (run_id + "0" * 20)[:32]
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": SERVICE}}]},
        "scopeSpans": [{"scope": {"name": SERVICE}, "spans": [{
            "traceId": trace_id, "spanId": run_id[:16].ljust(16, "0"), "name": f"lgtm-smoke {check}",
            "kind": 1, "startTimeUnixNano": str(now - duration_ns), "endTimeUnixNano": str(now),
            "attributes": [{"key": RUN_ATTR, "value": {"stringValue": run_id}}]}]}]}]}).encode()


def push_span(ctx: ProbeContext, check: str) -> str:
    """Push one span (OTLP/JSON) as the run's tenant; return its trace id (hex)."""
    trace_id = secrets.token_hex(16)
    body = otlp_json_trace(ctx.run_id, trace_id, check)
    ctx.push(lambda: ctx.client.post(OTLP, data=body, headers={"Content-Type": "application/json"}),
             what=f"OTLP trace ({check})")
    return trace_id


def tempo_json(ex: Exchange, what: str) -> dict:
    data = json_of(ex, "read", f"Tempo's {what}")
    if not isinstance(data, dict):
        raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} is not Tempo's {what} JSON: {ex.preview(120)}")
    return data


def trace_by_id(ctx: ProbeContext, path: str, tenant: str | None = None) -> tuple[Exchange, list]:
    """GET a trace-by-id path: (exchange, batches or resourceSpans; [] while absent). Tempo's
    own "no such trace" is a 404 with an empty body; a 404 with a body is a route miss."""
    ex = ctx.client.get(path, tenant=tenant or ctx.tenant, headers={"Accept": "application/json"})
    expect_status(ex, "read", ok=(200, 404))
    if ex.status == 404:
        return ex, []
    data = tempo_json(ex, "trace-by-id")
    return ex, data.get("batches") or (data.get("trace") or {}).get("resourceSpans") or []


def spans_of(batches: list[dict]) -> list[dict]:
    """Flatten OTLP JSON resource spans into [{name, spanId, parentSpanId, service, attrs}]."""
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
        raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status}: the trace came back altered: "
                          f"{'; '.join(problems)}", [f"response body: {ex.preview()}"])
    return {"spans": len(spans), "root_span_id": root["spanId"]}


def past_blips(send) -> Exchange:
    """One request repeated only while the answer is a blip other than the 503 'no org id' we
    expect from Tempo's OTLP receiver (so 502/504/429 and other 503s)."""
    sent = []

    def counted() -> Exchange:
        ex = send()
        sent.append(ex)
        ex.attempts = len(sent)
        return ex

    return retry.repeat_while(counted, lambda ex: ex.status in (429, 502, 504)
                              or (ex.status == 503 and "no org id" not in ex.text.lower()))
