"""Grafana: health, login, the provisioned datasources (tenant header, health) and this
run's data read back through Grafana's datasource proxy — the path users take.

Credentials come from --grafana-user/--grafana-password (env LGTM_GRAFANA_USER/_PASSWORD;
with --devstack the stack's own). The password lives only inside `GrafanaCredentials`,
which signs requests and never shows it: not in reprs, evidence or failure messages.
"""
from __future__ import annotations

import base64
import re
import time

import requests

from ..protocol import loki_push
from ..http import Exchange
from ..hints import hint
from ..probes import FIRST_WAIT, PUSH_ATTEMPTS, CheckFailed, NotYetVisible, ProbeContext, Transient, expect_status, probe
from . import mimir as mimir_checks
from . import pyroscope as pyroscope_checks

BACKEND_BUSY = re.compile(r"\b(429|5\d\d)\b")  # a backend status inside Grafana's health message

TENANT_HEADER = "X-Scope-OrgID"
# backend -> the Grafana datasource type that reads it
DATASOURCE_TYPES = {
    "mimir": "prometheus",
    "loki": "loki",
    "tempo": "tempo",
    "pyroscope": "grafana-pyroscope-datasource",
}
PROXY_CHECK = "grafana-proxy"  # the `check` label of the data the proxy probes write


class GrafanaCredentials(requests.auth.AuthBase):
    """Basic auth for Grafana. The password is never part of any text this object makes."""

    def __init__(self, user: str, password: str | None, source: str | None):
        self.user = user
        self.__password = password
        self.source = source  # where the password came from (an option name, never the value)

    def __repr__(self) -> str:
        shown = "***" if self.__password else None
        return f"GrafanaCredentials(user={self.user!r}, password={shown}, source={self.source!r})"

    __str__ = __repr__

    def __reduce__(self):  # no pickling the secret into caches or reports
        raise TypeError("GrafanaCredentials cannot be pickled")

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):  # dataclasses.asdict(config) copies; it must not fail or clone the secret
        return self

    @property
    def present(self) -> bool:
        return bool(self.__password)

    def require(self) -> "GrafanaCredentials":
        """Fail the check with one line saying how to pass the password."""
        if not self.__password:
            raise CheckFailed("no Grafana password: pass --grafana-password <password> (or set "
                              f"LGTM_GRAFANA_PASSWORD) for user {self.user!r}; it is never printed")
        return self

    def __call__(self, r):
        token = base64.b64encode(f"{self.user}:{self.__password}".encode()).decode()
        r.headers["Authorization"] = f"Basic {token}"
        return r


class _Plain(requests.auth.AuthBase):
    """Fixed, non-secret credentials (the well-known admin/admin an attacker tries)."""

    def __init__(self, user: str, password: str):
        self._token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.user = user

    def __repr__(self) -> str:
        return f"_Plain(user={self.user!r})"

    def __call__(self, r):
        r.headers["Authorization"] = f"Basic {self._token}"
        return r


DEFAULT_ADMIN = _Plain("admin", "admin")


def credentials(ctx: ProbeContext) -> GrafanaCredentials:
    creds = ctx.config.extra.get("grafana")
    if creds is None:
        return GrafanaCredentials("admin", None, None).require()
    return creds.require()


def expect_now(ex: Exchange, phase: str, ok=(200,)) -> Exchange:
    """expect_status for a one-shot call (outside a read-back): 429/5xx fail at once too."""
    try:
        return expect_status(ex, phase, ok)
    except Transient:
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → {ex.status}, expected "
                          f"{' or '.join(map(str, ok))}: {ex.preview(120)}{hint(ex, phase)}",
                          f"response body: {ex.preview()}") from None


def get_json(ex: Exchange, phase: str):
    try:
        return ex.json()
    except ValueError:
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → {ex.status} is not Grafana JSON: {ex.preview(120)}"
                          " — is Grafana the ALB's default target?") from None


def api(ctx: ProbeContext, method: str, path: str, phase: str = "grafana", ok=(200,), **kw) -> Exchange:
    """An authenticated Grafana API call (no tenant header: Grafana adds its own)."""
    creds = credentials(ctx)
    ex = ctx.client.request(method, path, tenant=None, auth=creds, **kw)
    if ex.status == 401:
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → 401 for Grafana user {creds.user!r} (password from "
                          f"{creds.source}): {ex.preview(120)} — wrong --grafana-password or --grafana-user?")
    return expect_now(ex, phase, ok)


def find_datasource(ctx: ProbeContext, backend: str) -> dict:
    """The provisioned datasource for `backend` (by type; the one with the tenant header first)."""
    want = DATASOURCE_TYPES[backend]
    listing = get_json(api(ctx, "GET", "/api/datasources", phase="datasources"), "datasources")
    matches = [d for d in listing if isinstance(d, dict) and d.get("type") == want]
    if not matches:
        found = ", ".join(f"{d.get('name')} ({d.get('type')})" for d in listing if isinstance(d, dict)) or "none"
        raise CheckFailed(f"datasources: no {want!r} datasource for {backend} in Grafana; provisioned: {found} — "
                          "check provisioning/datasources/datasources.yaml")
    matches.sort(key=lambda d: (d.get("jsonData") or {}).get("httpHeaderName1") != TENANT_HEADER)
    return matches[0]


def _datasource(ctx: ProbeContext, backend: str) -> dict:
    ds = find_datasource(ctx, backend)
    uid = ds["uid"]
    full = get_json(api(ctx, "GET", f"/api/datasources/uid/{uid}", phase="datasource"), "datasource")
    name = (full.get("jsonData") or {}).get("httpHeaderName1")
    secure = (full.get("secureJsonFields") or {}).get("httpHeaderValue1")
    if name != TENANT_HEADER or not secure:
        raise CheckFailed(f"datasource {full.get('name')!r} (uid {uid}, {full.get('type')}) sends no {TENANT_HEADER}: "
                          f"jsonData.httpHeaderName1={name!r}, secureJsonData.httpHeaderValue1 "
                          f"{'set' if secure else 'missing'} — its queries reach {backend} without a tenant (401 no org id)")
    for attempt in range(PUSH_ATTEMPTS):
        ex = ctx.client.get(f"/api/datasources/uid/{uid}/health", tenant=None, auth=credentials(ctx))
        body = get_json(ex, "health") if ex.content_type.startswith("application/json") else {}
        # Grafana relays the backend's own 429/5xx in its message: as transient as if we got it.
        if ex.status == 200 and body.get("status") == "OK" or not BACKEND_BUSY.search(str(body.get("message"))):
            break
        time.sleep(FIRST_WAIT * 2 ** attempt)
    if ex.status != 200 or body.get("status") != "OK":
        raise CheckFailed(f"health: datasource {full.get('name')!r} (uid {uid}) → {ex.status} "
                          f"{body.get('status', '')}: {body.get('message') or ex.preview(160)}")
    return {"uid": uid, "name": full.get("name"), "type": full.get("type"), "url": full.get("url"),
            "header": name, "health": body.get("message")}


for _backend in DATASOURCE_TYPES:
    probe(f"grafana.datasource_{_backend}", backend="grafana")(
        lambda ctx, _b=_backend: _datasource(ctx, _b))


@probe("grafana.health", backend="grafana")
def health(ctx: ProbeContext) -> dict:
    ex = expect_now(ctx.client.get("/api/health", tenant=None), "health")
    body = get_json(ex, "health")
    if not isinstance(body, dict) or body.get("database") != "ok":
        raise CheckFailed(f"health: GET /api/health → database {body.get('database') if isinstance(body, dict) else body!r}"
                          f", expected 'ok': {ex.preview(160)} — Grafana cannot reach its database")
    return {"version": body.get("version"), "commit": body.get("commit"), "database": body["database"]}


@probe("grafana.login_required", backend="grafana")
def login_required(ctx: ProbeContext) -> dict:
    seen = {}
    for path in ("/api/datasources", "/api/search"):
        ex = ctx.client.get(path, tenant=None)
        if ex.status != 401:
            raise CheckFailed(f"login: GET {path} without credentials → {ex.status}, expected 401: {ex.preview(120)}"
                              + (" — anonymous access is on: anyone reaching the ALB can use Grafana"
                                 if ex.status in (200, 403) else ""))
        body = get_json(ex, "login")
        seen[path] = body.get("message") if isinstance(body, dict) else ex.preview(60)
    return {"unauthenticated": seen}


# --- this run's data through the datasource proxy -------------------------------------------
def _via(ds: dict, read):
    """Run the read-back, naming the datasource in a failure."""
    try:
        return read()
    except CheckFailed as e:
        extra = ""
        if "→ 401" in e.cause and "no org id" in e.cause:
            extra = (f" (datasource {ds.get('name')!r} lost its X-Scope-OrgID: jsonData.httpHeaderName1 / "
                     "secureJsonData.httpHeaderValue1)")
        raise CheckFailed(f"via Grafana datasource {ds.get('name')!r} (uid {ds.get('uid')}): {e.cause}{extra}",
                          e.detail) from None


def _proxy(ctx: ProbeContext, method: str, uid: str, path: str, **kw) -> Exchange:
    return ctx.client.request(method, f"/api/datasources/proxy/uid/{uid}{path}", tenant=None, auth=credentials(ctx),
                              **kw)


def _proxy_get(ctx: ProbeContext, uid: str, path: str, params: dict) -> Exchange:
    return _proxy(ctx, "GET", uid, path, params=params)


@probe("grafana.proxy_mimir", backend="grafana")
def proxy_mimir(ctx: ProbeContext) -> dict:
    ds = find_datasource(ctx, "mimir")
    query, value, ts = mimir_checks.push_sample(ctx, PROXY_CHECK, "remote write (for the proxy read)")

    def fetch() -> dict:
        ex = _proxy_get(ctx, ds["uid"], "/api/v1/query", {"query": query, "time": f"{ts / 1000:.3f}"})
        result = mimir_checks.parse_prom_json(expect_status(ex, "read"), "read")["result"]
        if not result or float(result[0]["value"][1]) != value:
            raise NotYetVisible(ex, f"{len(result)} series without this run's value {value:.0f}")
        return {"datasource": ds["name"], "uid": ds["uid"], "query": query, "value": result[0]["value"][1]}

    return _via(ds, lambda: ctx.read_back(fetch, what=f"sample {query} = {value:.0f} via Grafana"))


@probe("grafana.proxy_loki", backend="grafana")
def proxy_loki(ctx: ProbeContext) -> dict:
    ds = find_datasource(ctx, "loki")
    line = f"lgtm-smoke synthetic probe check={PROXY_CHECK} run={ctx.run_id} level=info"
    ts = time.time_ns()
    body = loki_push.encode_json([loki_push.Stream({"job": "lgtm-smoke", "check": PROXY_CHECK}, [(ts, line)])])
    ctx.push(lambda: ctx.client.post("/loki/api/v1/push", data=body, headers=loki_push.JSON_HEADERS),
             what="loki push (for the proxy read)")
    query = f'{{job="lgtm-smoke", check="{PROXY_CHECK}"}} |= "run={ctx.run_id}"'
    params = {"query": query, "start": str(ts - 300 * 10**9), "end": str(time.time_ns() + 60 * 10**9),
              "limit": "10", "direction": "backward"}

    def fetch() -> dict:
        ex = expect_status(_proxy_get(ctx, ds["uid"], "/loki/api/v1/query_range", params), "read")
        try:
            lines = [v[1] for s in ex.json()["data"]["result"] for v in s["values"]]
        except (ValueError, KeyError, TypeError):
            raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} is not Loki's streams JSON: {ex.preview(120)}")
        if line not in lines:
            raise NotYetVisible(ex, f"{len(lines)} matching line(s)")
        return {"datasource": ds["name"], "uid": ds["uid"], "query": query, "line": line}

    return _via(ds, lambda: ctx.read_back(fetch, what=f"line {line!r} via Grafana"))


@probe("grafana.proxy_tempo", backend="grafana")
def proxy_tempo(ctx: ProbeContext) -> dict:
    from .security import push_trace, trace_batches  # the same OTLP/JSON span the isolation check sends

    ds = find_datasource(ctx, "tempo")
    trace_id = push_trace(ctx, PROXY_CHECK)

    def fetch() -> dict:
        ex = expect_status(_proxy_get(ctx, ds["uid"], f"/api/traces/{trace_id}", {}), "read", ok=(200, 404))
        if not trace_batches(ex):
            raise NotYetVisible(ex, "404 (no trace yet)" if ex.status == 404 else "an empty trace")
        return {"datasource": ds["name"], "uid": ds["uid"], "trace_id": trace_id}

    return _via(ds, lambda: ctx.read_back(fetch, what=f"trace {trace_id} via Grafana"))


@probe("grafana.proxy_pyroscope", backend="grafana")
def proxy_pyroscope(ctx: ProbeContext) -> dict:
    ds = find_datasource(ctx, "pyroscope")
    labels = pyroscope_checks.run_labels(ctx, PROXY_CHECK)
    request = pyroscope_checks.merge_request(labels, pyroscope_checks.push_connect(ctx, labels))

    def fetch() -> dict:  # the Connect querier call Grafana's Pyroscope datasource makes for a flame graph
        ex = _proxy(ctx, "POST", ds["uid"], pyroscope_checks.MERGE_STACKTRACES, json=request,
                    headers={"Connect-Protocol-Version": "1"})
        return {"datasource": ds["name"], "uid": ds["uid"], "selector": request["labelSelector"],
                **pyroscope_checks.compare(ex, *pyroscope_checks.flamegraph(ex), ctx.run_id)}

    return _via(ds, lambda: ctx.read_back(fetch, what=f"profile {pyroscope_checks.PROFILE_TYPE}"
                                                       f"{request['labelSelector']} via Grafana"))
