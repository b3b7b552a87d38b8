"""Grafana's HTTP API as the suite uses it: login, the provisioned datasources and the
datasource proxy — the path every dashboard takes to a backend.

Credentials come from --grafana-user/--grafana-password (env LGTM_GRAFANA_USER/_PASSWORD;
a stack plugin such as --devstack sets its own). The password is a `settings.Secret` inside
`GrafanaCredentials`, which signs requests with it and never shows it: not in reprs, evidence
or failure messages.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any, Callable

import requests

from ... import retry
from ...http import Exchange
from ...outcome import Check, CheckFailed
from ...probe import ProbeContext, expect_now
from ...settings import Secret

TENANT_HEADER = "X-Scope-OrgID"
BACKEND_BUSY = re.compile(r"\b(429|5\d\d)\b")  # a backend status inside Grafana's health message
# backend -> the Grafana datasource type that reads it
DATASOURCE_TYPES = {
    "mimir": "prometheus",
    "loki": "loki",
    "tempo": "tempo",
    "pyroscope": "grafana-pyroscope-datasource",
}
PROXY_CHECK = "grafana-proxy"  # the `check` label of the data the proxy probes write


@dataclass(frozen=True, eq=False)
class GrafanaCredentials(requests.auth.AuthBase):
    """Basic auth for Grafana. The password is a `settings.Secret`, the suite's one secret
    type: it is what keeps the value out of reprs, strs, pickles and copies of this object."""

    user: str
    password: Secret | None
    source: str | None  # where the password came from (an option name, never the value)

    def __post_init__(self) -> None:
        if isinstance(self.password, str):  # a caller's plain string is wrapped at once
            object.__setattr__(self, "password", Secret(self.password))

    @property
    def present(self) -> bool:
        return bool(self.password)

    def require(self) -> "GrafanaCredentials":
        """Fail the check with one line saying how to pass the password."""
        if not self.password:
            raise CheckFailed("no Grafana password: pass --grafana-password <password> (or set "
                              f"LGTM_GRAFANA_PASSWORD) for user {self.user!r}; it is never printed")
        return self

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        assert self.password is not None
        token = base64.b64encode(f"{self.user}:{self.password.reveal()}".encode()).decode()
        r.headers["Authorization"] = f"Basic {token}"
        return r


class FixedLogin(requests.auth.AuthBase):
    """Fixed, non-secret credentials (the well-known admin/admin an attacker tries)."""

    def __init__(self, user: str, password: str):
        self._token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.user = user

    def __repr__(self) -> str:
        return f"FixedLogin(user={self.user!r})"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Basic {self._token}"
        return r


DEFAULT_ADMIN = FixedLogin("admin", "admin")


def credentials(ctx: ProbeContext) -> GrafanaCredentials:
    s = ctx.settings
    return GrafanaCredentials(s.grafana_user, s.grafana_password, s.grafana_password_source)


def api(ctx: ProbeContext, method: str, path: str, phase: str = "grafana", ok: tuple[int, ...] = (200,),
        **kw: Any) -> Exchange:
    """An authenticated Grafana API call (no tenant header: Grafana adds its own)."""
    creds = credentials(ctx).require()
    ex = ctx.client.request(method, path, tenant=None, auth=creds, **kw)
    if ex.status == 401:
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → 401 for Grafana user {creds.user!r} (password from "
                          f"{creds.source}): {ex.preview(120)} — wrong --grafana-password or --grafana-user?")
    return expect_now(ex, phase, ok)


def grafana_json(ex: Exchange, phase: str) -> Any:
    try:
        return ex.json()
    except ValueError:
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → {ex.status} is not Grafana JSON: {ex.preview(120)}"
                          " — is Grafana the ALB's default target?") from None


def login(ctx: ProbeContext) -> dict[str, Any]:
    """The `grafana.login` precondition: the run's Grafana user logs in."""
    body = grafana_json(api(ctx, "GET", "/api/user", phase="login"), "login")
    return {"login": body.get("login") if isinstance(body, dict) else None}


def find_datasource(ctx: ProbeContext, backend: str) -> dict[str, Any]:
    """The provisioned datasource for `backend` (by type; the one with the tenant header first)."""
    want = DATASOURCE_TYPES[backend]
    listing = grafana_json(api(ctx, "GET", "/api/datasources", phase="datasources"), "datasources")
    matches = [d for d in listing if isinstance(d, dict) and d.get("type") == want]
    if not matches:
        found = ", ".join(f"{d.get('name')} ({d.get('type')})" for d in listing if isinstance(d, dict)) or "none"
        raise CheckFailed(f"datasources: no {want!r} datasource for {backend} in Grafana; provisioned: {found} — "
                          "check provisioning/datasources/datasources.yaml")
    matches.sort(key=lambda d: (d.get("jsonData") or {}).get("httpHeaderName1") != TENANT_HEADER)
    return matches[0]


def datasource_check(ctx: ProbeContext, backend: str) -> dict[str, Any]:
    """`backend`'s datasource sends the tenant header and Grafana's health call says OK."""
    ds = find_datasource(ctx, backend)
    uid = ds["uid"]
    full = grafana_json(api(ctx, "GET", f"/api/datasources/uid/{uid}", phase="datasource"), "datasource")
    name = (full.get("jsonData") or {}).get("httpHeaderName1")
    secure = (full.get("secureJsonFields") or {}).get("httpHeaderValue1")
    if name != TENANT_HEADER or not secure:
        raise CheckFailed(f"datasource {full.get('name')!r} (uid {uid}, {full.get('type')}) sends no {TENANT_HEADER}: "
                          f"jsonData.httpHeaderName1={name!r}, secureJsonData.httpHeaderValue1 "
                          f"{'set' if secure else 'missing'} — its queries reach {backend} without a tenant (401 no org id)")

    def health() -> tuple[Exchange, dict[str, Any]]:
        ex = ctx.client.get(f"/api/datasources/uid/{uid}/health", tenant=None, auth=credentials(ctx))
        return ex, (grafana_json(ex, "health") if ex.content_type.startswith("application/json") else {})

    def busy(answer: tuple[Exchange, dict[str, Any]]) -> bool:  # Grafana relays the backend's own 429/5xx in its message
        ex, body = answer
        return not (ex.status == 200 and body.get("status") == "OK") and bool(BACKEND_BUSY.search(str(body.get("message"))))

    ex, body = retry.repeat_while(health, busy)
    if ex.status != 200 or body.get("status") != "OK":
        raise CheckFailed(f"health: datasource {full.get('name')!r} (uid {uid}) → {ex.status} "
                          f"{body.get('status', '')}: {body.get('message') or ex.preview(160)}")
    return {"uid": uid, "name": full.get("name"), "type": full.get("type"), "url": full.get("url"),
            "header": name, "health": body.get("message")}


def datasource_check_for(backend: str) -> Check:
    """`<backend>.grafana_datasource`: the check each backend's folder provides (marker grafana)."""
    return Check(f"{backend}.grafana_datasource", backend, lambda ctx: datasource_check(ctx, backend),
                 needs=("alb", "grafana.login"), doc=datasource_check.__doc__ or "")


def proxy(ctx: ProbeContext, method: str, uid: str, path: str, **kw: Any) -> Exchange:
    """A call through Grafana's datasource proxy, logged in, without any tenant header."""
    return ctx.client.request(method, f"/api/datasources/proxy/uid/{uid}{path}", tenant=None, auth=credentials(ctx),
                              **kw)


def via(ds: dict[str, Any], read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a read-back through the proxy, naming the datasource in a failure."""
    try:
        return read()
    except CheckFailed as e:
        extra = ""
        if "→ 401" in e.cause and "no org id" in e.cause:
            extra = (f" (datasource {ds.get('name')!r} lost its X-Scope-OrgID: jsonData.httpHeaderName1 / "
                     "secureJsonData.httpHeaderValue1)")
        raise CheckFailed(f"via Grafana datasource {ds.get('name')!r} (uid {ds.get('uid')}): {e.cause}{extra}",
                          e.evidence) from None

