"""Security probes: tenant isolation, missing-tenant rejection, garbage ingest, exposed
admin endpoints and Grafana's login. Every request goes through the ALB, as an attacker's
would. Failure messages say what an attacker or a mistake could do with the hole.
"""
from __future__ import annotations

import json
import secrets
import time
from importlib import resources

from ..protocol import loki_push, remote_write
from ..hints import hint
from ..http import Exchange
from ..probes import CheckFailed, NotYetVisible, ProbeContext, Transient, expect_status, probe
from .grafana import expect_now
from . import grafana as grafana_checks
from . import mimir as mimir_checks
from . import pyroscope as pyroscope_checks
from . import tempo as tempo_checks

ISOLATION_CHECK = "isolation"
NO_TENANT_CHECK = "no-tenant"
# Where a backend with auth off stores what it accepts (the S3 folder it would appear in).
NO_AUTH_FOLDER = {"mimir": "anonymous/", "loki": "fake/", "tempo": "single-tenant/", "pyroscope": "anonymous/"}
GARBAGE = b"\xff\x00lgtm-smoke garbage \xde\xad\xbe\xef\x8f" * 8


def exposed_endpoints() -> list[dict]:
    """lgtm_smoke/data/exposed_endpoints.json: the internal/admin endpoints, as data."""
    text = (resources.files("lgtm_smoke") / "data" / "exposed_endpoints.json").read_text()
    return json.loads(text)["endpoints"]


def _who(ex: Exchange) -> str:
    return f"tenant {ex.tenant!r}" if ex.tenant else "no tenant"


# --- tenant isolation --------------------------------------------------------------------------
def _assert_isolated(ctx: ProbeContext, query_as, unseen: str, what: str, leak: str) -> dict:
    """Read this run's data as its own tenant until visible, then once as another tenant, which
    must see none of it. `query_as(tenant) -> (exchange, this run's items found)`."""

    def own() -> dict:
        ex, mine = query_as(ctx.config.tenant)
        if not mine:
            raise NotYetVisible(ex, unseen)
        return {}

    ctx.read_back(own, what=f"{what} as its own tenant (before the isolation test)")
    other = ctx.config.other_tenant
    try:
        ex, leaked = query_as(other)
    except Transient as e:
        expect_now(e.exchange, "isolation")
    if leaked:
        raise CheckFailed(f"isolation: {ex.method} {ex.path} (tenant {other!r}) → {ex.status} returned tenant "
                          f"{ctx.config.tenant!r}'s {leak}", f"response body: {ex.preview()}")
    return {"own_tenant": ctx.config.tenant, "other_tenant": other, "other_sees": 0}


@probe("security.isolation_mimir", backend="mimir")
def isolation_mimir(ctx: ProbeContext) -> dict:
    query, value, ts = mimir_checks.push_sample(ctx, ISOLATION_CHECK, "remote write as tenant A")

    def query_as(tenant: str):
        ex = ctx.client.get("/prometheus/api/v1/query", tenant=tenant,
                            params={"query": query, "time": f"{ts / 1000:.3f}"})
        result = mimir_checks.parse_prom_json(expect_status(ex, "read"), "read")["result"]
        return ex, [r for r in result if float(r["value"][1]) == value]

    return {"query": query, **_assert_isolated(
        ctx, query_as, "no series with this run's value", f"sample {query} = {value:.0f}",
        f"sample (value {value:.0f}): Mimir ignores X-Scope-OrgID on queries — anyone who sets any tenant id "
        "reads every tenant's metrics")}


@probe("security.isolation_loki", backend="loki")
def isolation_loki(ctx: ProbeContext) -> dict:
    line = f"lgtm-smoke synthetic probe check={ISOLATION_CHECK} run={ctx.run_id} level=info"
    ts = time.time_ns()
    body = loki_push.encode_json([loki_push.Stream({"job": "lgtm-smoke", "check": ISOLATION_CHECK}, [(ts, line)])])
    ctx.push(lambda: ctx.client.post("/loki/api/v1/push", data=body, headers=loki_push.JSON_HEADERS),
             what="loki push as tenant A")
    query = f'{{job="lgtm-smoke", check="{ISOLATION_CHECK}"}} |= "run={ctx.run_id}"'
    params = {"query": query, "start": str(ts - 300 * 10**9), "end": str(time.time_ns() + 60 * 10**9), "limit": "10"}

    def query_as(tenant: str):
        ex = expect_status(ctx.client.get("/loki/api/v1/query_range", tenant=tenant, params=params), "read")
        try:
            return ex, [v[1] for s in ex.json()["data"]["result"] for v in s["values"] if v[1] == line]
        except (ValueError, KeyError, TypeError):
            raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} is not Loki's streams JSON: {ex.preview(120)}")

    return {"query": query, **_assert_isolated(
        ctx, query_as, "0 matching line(s)", f"line {line!r}",
        "line: Loki ignores X-Scope-OrgID on queries — anyone who sets any tenant id reads every tenant's logs")}


# --- missing tenant ------------------------------------------------------------------------------
def _expect_no_org_id(ex: Exchange, backend: str, what: str, status: int = 401) -> dict:
    if ex.status == status and "no org id" in ex.text.lower():
        return {"request": f"{ex.method} {ex.path}", "status": ex.status, "answer": ex.preview(80)}
    if 200 <= ex.status < 300 and ex.method == "GET":
        raise CheckFailed(f"no tenant: {ex.method} {ex.path} (no X-Scope-OrgID) → {ex.status}: {backend} answered "
                          f"{what} without a tenant (multitenancy off) — anyone reads what sits under "
                          f"{NO_AUTH_FOLDER[backend]} in the S3 bucket, and writes without a tenant land there",
                          f"response body: {ex.preview()}")
    if 200 <= ex.status < 300:
        raise CheckFailed(f"no tenant: {ex.method} {ex.path} (no X-Scope-OrgID) → {ex.status}: {backend} accepted "
                          f"{what} without a tenant (multitenancy/auth off) — the data lands under "
                          f"{NO_AUTH_FOLDER[backend]} in the S3 bucket, outside every tenant, and any client that "
                          f"forgets the header writes (and reads) there", f"response body: {ex.preview()}")
    raise CheckFailed(f"no tenant: {ex.method} {ex.path} (no X-Scope-OrgID) → {ex.status}, expected {status} "
                      f"'no org id' from {backend}: {ex.preview(120)}", f"response body: {ex.preview()}")


@probe("security.no_tenant_mimir", backend="mimir")
def no_tenant_mimir(ctx: ProbeContext) -> dict:
    labels = {**mimir_checks.LABELS, "check": NO_TENANT_CHECK}

    def send():
        body = remote_write.encode([remote_write.Series(labels, 1.0, int(time.time() * 1000))])
        return ctx.client.post("/api/v1/push", data=body, headers=remote_write.HEADERS, tenant=None)

    return _expect_no_org_id(send(), "mimir", "a remote write")


@probe("security.no_tenant_loki", backend="loki")
def no_tenant_loki(ctx: ProbeContext) -> dict:
    line = f"lgtm-smoke synthetic probe check={NO_TENANT_CHECK} run={ctx.run_id} level=info"

    def send():
        body = loki_push.encode_json([loki_push.Stream({"job": "lgtm-smoke", "check": NO_TENANT_CHECK},
                                                       [(time.time_ns(), line)])])
        return ctx.client.post("/loki/api/v1/push", data=body, headers=loki_push.JSON_HEADERS, tenant=None)

    return _expect_no_org_id(send(), "loki", "a log push")


def otlp_json_trace(run_id: str, trace_id: str | None = None, check: str = NO_TENANT_CHECK) -> bytes:
    """A minimal valid OTLP/JSON ExportTraceServiceRequest (OTLP/HTTP accepts JSON) with one span."""
    now = time.time_ns()
    trace_id = trace_id or (run_id + "0" * 20)[:32]
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "lgtm-smoke"}}]},
        "scopeSpans": [{"scope": {"name": "lgtm-smoke"}, "spans": [{
            "traceId": trace_id, "spanId": run_id[:16].ljust(16, "0"), "name": f"lgtm-smoke {check}",
            "kind": 1, "startTimeUnixNano": str(now - 1_000_000), "endTimeUnixNano": str(now),
            "attributes": [{"key": "lgtm_smoke.run", "value": {"stringValue": run_id}}]}]}]}]}).encode()


def push_trace(ctx: ProbeContext, check: str) -> str:
    """Push one span as the run's tenant; return its trace id (hex)."""
    trace_id = secrets.token_hex(16)
    body = otlp_json_trace(ctx.run_id, trace_id, check)
    ctx.push(lambda: ctx.client.post("/v1/traces", data=body, headers={"Content-Type": "application/json"}),
             what=f"OTLP trace ({check})")
    return trace_id


def trace_batches(ex: Exchange) -> list:
    """Tempo v1 trace-by-id JSON: {"batches": [...]}; 404 with an empty body when absent."""
    if ex.status == 404:
        return []
    try:
        return ex.json().get("batches") or []
    except (ValueError, AttributeError):
        raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} is not Tempo's trace JSON: {ex.preview(120)}")


@probe("security.isolation_tempo", backend="tempo")
def isolation_tempo(ctx: ProbeContext) -> dict:
    trace_id = push_trace(ctx, ISOLATION_CHECK)
    path = f"/tempo/api/traces/{trace_id}"

    def own() -> dict:
        ex = expect_status(ctx.client.get(path), "read", ok=(200, 404))
        if not trace_batches(ex):
            raise NotYetVisible(ex, "404 (no trace yet)" if ex.status == 404 else "an empty trace")
        return {}

    ctx.read_back(own, what=f"trace {trace_id} as its own tenant (before the isolation test)")
    other = ctx.config.other_tenant
    ex = ctx.client.get(path, tenant=other)
    if ex.status == 200 and trace_batches(ex):
        raise CheckFailed(f"isolation: GET {path} (tenant {other!r}) → 200 returned tenant {ctx.config.tenant!r}'s "
                          "trace: Tempo ignores X-Scope-OrgID on queries — anyone who sets any tenant id reads "
                          "every tenant's traces", f"response body: {ex.preview()}")
    if ex.status not in (200, 404):
        expect_now(ex, "isolation", ok=(404,))
    return {"trace_id": trace_id, "own_tenant": ctx.config.tenant, "other_tenant": other, "other_sees": 0}


@probe("security.isolation_pyroscope", backend="pyroscope")
def isolation_pyroscope(ctx: ProbeContext) -> dict:
    labels = pyroscope_checks.run_labels(ctx, ISOLATION_CHECK)
    params = pyroscope_checks.render_params(labels, pyroscope_checks.push_ingest(ctx, labels))

    def query_as(tenant: str):
        ex = ctx.client.get("/pyroscope/render", tenant=tenant, params=params)
        return ex, pyroscope_checks.flamebearer(ex)

    def own() -> dict:
        ex, flame = query_as(ctx.config.tenant)
        return pyroscope_checks.compare(ex, *flame, ctx.run_id)

    ctx.read_back(own, what=f"profile {params['query']} as its own tenant (before the isolation test)")
    other = ctx.config.other_tenant
    try:
        ex, (names, _, total) = query_as(other)
    except Transient as e:
        expect_now(e.exchange, "isolation")
    if total:
        raise CheckFailed(f"isolation: GET /pyroscope/render (tenant {other!r}) → {ex.status} returned tenant "
                          f"{ctx.config.tenant!r}'s profile (total {total}, functions "
                          f"{[n for n in names if n in pyroscope_checks.FUNCTIONS]}): Pyroscope ignores X-Scope-OrgID "
                          "on queries — anyone who sets any tenant id reads every tenant's profiles (with "
                          "multitenancy off every profile sits under anonymous/ in the S3 bucket)",
                          f"response body: {ex.preview()}")
    return {"query": params["query"], "own_tenant": ctx.config.tenant, "other_tenant": other, "other_sees": 0}


@probe("security.no_tenant_tempo_otlp", backend="tempo")
def no_tenant_tempo_otlp(ctx: ProbeContext) -> dict:
    # 503 is the answer we expect, so only other 5xx count as blips here.
    ex = tempo_checks.once_past_blips(lambda: ctx.client.post(
        "/v1/traces", data=otlp_json_trace(ctx.run_id), tenant=None, settle=False,
        headers={"Content-Type": "application/json"}))
    return _expect_no_org_id(ex, "tempo", "an OTLP trace", status=503)


@probe("security.no_tenant_tempo_query", backend="tempo")
def no_tenant_tempo_query(ctx: ProbeContext) -> dict:
    now = int(time.time())
    ex = ctx.client.get("/tempo/api/search", tenant=None,
                        params={"tags": "service.name=lgtm-smoke", "start": str(now - 3600), "end": str(now)})
    return _expect_no_org_id(ex, "tempo", "a trace search")


@probe("security.no_tenant_pyroscope", backend="pyroscope")
def no_tenant_pyroscope(ctx: ProbeContext) -> dict:
    now = int(time.time())

    def send():  # legacy ingest in "groups" (collapsed stacks) format: valid without any encoder
        return ctx.client.post("/pyroscope/ingest", tenant=None, data=b"lgtm_smoke;security;no_tenant 1\n",
                               params={"name": "lgtm-smoke-security.cpu", "from": str(now - 10), "until": str(now)},
                               headers={"Content-Type": "text/plain"})

    return _expect_no_org_id(send(), "pyroscope", "a profile")


# --- garbage to every ingest path ----------------------------------------------------------------
NOT_A_DECODER_ANSWER = (401, 403, 404, 405)  # 4xx that never reached the wire-format decoder


def _garbage(ctx: ProbeContext, backend: str, sends: list[tuple[str, callable]], ready: callable) -> dict:
    before = ready()
    if before.status != 200:
        raise CheckFailed(f"garbage: before any garbage, {before.method} {before.path} → {before.status}, expected "
                          f"200: {before.preview(120)}{hint(before, 'read')} — {backend} is not serving through the ALB")
    answers = {}
    for what, send in sends:
        ex = send()
        answers[what] = ex.status
        if ex.status in NOT_A_DECODER_ANSWER:
            raise CheckFailed(f"garbage: {ex.method} {ex.path} ({_who(ex)}) with {what} → {ex.status}: "
                              f"{ex.preview(120)}{hint(ex, 'push')} — the body never reached {backend}'s decoder, "
                              "so this proves nothing about bad input")
        if ex.status >= 500:
            raise CheckFailed(f"garbage: {ex.method} {ex.path} ({_who(ex)}) with {what} → {ex.status}, expected 4xx: "
                              f"{ex.preview(120)} — {backend} treats a client's bad input as its own failure: clients "
                              "retry it forever, 5xx alerts fire, and a crafted body may crash it",
                              f"response body: {ex.preview()}")
        if not 400 <= ex.status < 500:
            raise CheckFailed(f"garbage: {ex.method} {ex.path} ({_who(ex)}) with {what} → {ex.status}, expected 4xx: "
                              f"{ex.preview(120)} — {backend} accepted bytes that are not its wire format",
                              f"response body: {ex.preview()}")
    after = ready()
    if after.status != 200:
        raise CheckFailed(f"garbage: after the garbage pushes {after.method} {after.path} → {after.status}, expected "
                          f"200: {after.preview(120)} — {backend} stopped serving after bad input")
    return {"answers": answers, "still_serving": f"{after.method} {after.path} → 200"}


@probe("security.garbage_mimir", backend="mimir")
def garbage_mimir(ctx: ProbeContext) -> dict:
    return _garbage(ctx, "mimir", [
        ("a body that is not snappy protobuf", lambda: ctx.client.post("/api/v1/push", data=GARBAGE,
                                                                       headers=remote_write.HEADERS)),
    ], lambda: ctx.client.get("/prometheus/api/v1/query", params={"query": "vector(1)"}))


@probe("security.garbage_loki", backend="loki")
def garbage_loki(ctx: ProbeContext) -> dict:
    return _garbage(ctx, "loki", [
        ("truncated JSON", lambda: ctx.client.post("/loki/api/v1/push", data=b'{"streams": [{"stream": {"job"',
                                                   headers=loki_push.JSON_HEADERS)),
        ("a body that is not snappy protobuf", lambda: ctx.client.post("/loki/api/v1/push", data=GARBAGE,
                                                                       headers=loki_push.PROTOBUF_HEADERS)),
    ], lambda: ctx.client.get("/loki/api/v1/labels"))


@probe("security.garbage_tempo", backend="tempo")
def garbage_tempo(ctx: ProbeContext) -> dict:
    return _garbage(ctx, "tempo", [
        ("a body that is not OTLP protobuf", lambda: ctx.client.post("/v1/traces", data=GARBAGE,
                                                                     headers={"Content-Type": "application/x-protobuf"})),
    ], lambda: ctx.client.get("/tempo/api/echo"))


@probe("security.garbage_pyroscope", backend="pyroscope")
def garbage_pyroscope(ctx: ProbeContext) -> dict:
    now = int(time.time())
    return _garbage(ctx, "pyroscope", [
        ("a body that is not pprof (ingest, format=pprof)",
         lambda: ctx.client.post("/pyroscope/ingest", data=GARBAGE, headers={"Content-Type": "application/octet-stream"},
                                 params={"name": "lgtm-smoke-garbage.cpu", "format": "pprof", "from": str(now - 10),
                                         "until": str(now)})),
        ("a body that is not a PushRequest (Connect push)",
         lambda: ctx.client.post("/push.v1.PusherService/Push", data=GARBAGE,
                                 headers={"Content-Type": "application/proto"})),
    ], lambda: ctx.client.post("/querier.v1.QuerierService/ProfileTypes", data=b"{}",
                               headers={"Content-Type": "application/json"}))


# --- internal endpoints at the ALB ---------------------------------------------------------------
@probe("security.exposed_endpoints", backend="alb")
def exposed(ctx: ProbeContext) -> dict:
    """Every listed endpoint once; the verdict per endpoint is the test's (see test_security)."""
    answers = {}
    for entry in exposed_endpoints():
        ex = ctx.client.request(entry["method"], entry["path"])
        answers[entry["path"]] = {"status": ex.status, "method": ex.method, "body": ex.preview(100)}
    return answers


# --- Grafana login -------------------------------------------------------------------------------
@probe("security.grafana_default_password", backend="grafana")
def grafana_default_password(ctx: ProbeContext) -> dict:
    ex = ctx.client.get("/api/user", tenant=None, auth=grafana_checks.DEFAULT_ADMIN)
    if ex.status == 401:
        return {"request": "GET /api/user as admin/admin", "status": 401, "answer": ex.preview(80)}
    if ex.status == 200:
        raise CheckFailed("grafana: GET /api/user with admin/admin → 200: Grafana still has its default admin "
                          "password — anyone reaching the ALB is Grafana admin (reads every datasource, edits "
                          "datasources and users); set GF_SECURITY_ADMIN_PASSWORD")
    raise CheckFailed(f"grafana: GET /api/user with admin/admin → {ex.status}, expected 401: {ex.preview(120)}")


@probe("security.grafana_anonymous", backend="grafana")
def grafana_anonymous(ctx: ProbeContext) -> dict:
    seen = {}
    paths = ["/api/search", "/api/datasources"]
    creds = ctx.config.extra.get("grafana")
    if creds is not None and creds.present:  # also try the data path an anonymous Viewer would use
        ds = grafana_checks.find_datasource(ctx, "mimir")
        paths.append(f"/api/datasources/proxy/uid/{ds['uid']}/api/v1/query?query=vector(1)")
    for path in paths:
        ex = ctx.client.get(path, tenant=None)
        seen[path.split("?")[0]] = ex.status
        if ex.status != 401:
            raise CheckFailed(f"grafana: GET {path} without credentials → {ex.status}, expected 401: {ex.preview(120)}"
                              + (" — anonymous access is on: anyone reaching the ALB browses dashboards and queries "
                                 "every datasource under the stack's tenant" if ex.status in (200, 403) else ""))
    return {"unauthenticated": seen}
