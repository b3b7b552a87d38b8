"""Grafana 12.1 stand-in (the ALB's default target): health, basic-auth login, the
provisioned datasources, their health, and a real datasource proxy to the local backends.

Shapes follow Grafana 12's HTTP API: `/api/health` is public; every other `/api/*` needs a
login (401 `{"message":"Unauthorized",…}` without one, `Invalid username or password` with a
wrong one); anonymous access (fault `grafana-anonymous`) is a Viewer, who may search and query
through the datasource proxy but not read datasource settings (403). Datasources are
provisioned like the seeds' datasources.yaml: `httpHeaderName1: X-Scope-OrgID` in jsonData,
the value in secureJsonData (never returned, only `secureJsonFields.httpHeaderValue1: true`).
Every endpoint the suite calls answers with a status code and body shape of Grafana's published
OpenAPI spec (tests/refstack/test_grafana_openapi.py holds it to ../shared/contracts/grafana-openapi3.json).
The proxy forwards to the backend's target group directly (as Grafana inside the VPC does),
adds the datasource's header, and never forwards the caller's credentials.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from .web import Backend, Request, Response, abort, json_response, plain, route

VERSION = "12.1.0"
COMMIT = "devstack"  # a real build reports its git commit here
TENANT_HEADER = "X-Scope-OrgID"
NO_TENANT_DATASOURCE = "loki"  # the datasource that loses its header under grafana-datasource-no-tenant


@dataclass(frozen=True)
class Datasource:
    id: int
    uid: str
    name: str
    type: str
    type_name: str
    target_group: str
    path: str  # appended to the target group's URL (Mimir's Prometheus API lives under /prometheus)
    is_default: bool = False


DATASOURCES = (
    Datasource(1, "mimir", "Mimir", "prometheus", "Prometheus", "mimir", "/prometheus", True),
    Datasource(2, "loki", "Loki", "loki", "Loki", "loki", ""),
    Datasource(3, "tempo", "Tempo", "tempo", "Tempo", "tempo", ""),
    Datasource(4, "pyroscope", "Pyroscope", "grafana-pyroscope-datasource", "Grafana Pyroscope", "pyroscope", ""),
)
BY_UID = {ds.uid: ds for ds in DATASOURCES}

UNAUTHORIZED = {"extra": None, "message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401,
                "traceID": ""}
BAD_LOGIN = {"extra": None, "message": "Invalid username or password", "messageId": "password-auth.failed",
             "statusCode": 401, "traceID": ""}
# How Grafana's datasource health checks probe each backend type: (method, path, body).
HEALTH_QUERIES = {
    "prometheus": ("GET", "/api/v1/query?query=1%2B1", None, "Successfully queried the Prometheus API."),
    "loki": ("GET", "/loki/api/v1/labels", None, "Data source successfully connected."),
    "tempo": ("GET", "/api/echo", None, "Data source is working"),
    "grafana-pyroscope-datasource": ("POST", "/querier.v1.QuerierService/ProfileTypes", b"{}",
                                     "Data source is working"),
}
# The dashboard baked into the Grafana image (infra/images/grafana/dashboards/lgtm-smoke.json), as a search Hit.
DASHBOARD_HIT = {"id": 1, "uid": "lgtm-smoke", "title": "LGTM smoke", "uri": "db/lgtm-smoke",
                 "url": "/d/lgtm-smoke/lgtm-smoke", "slug": "", "type": "dash-db", "tags": ["lgtm-smoke", "smoke"],
                 "isStarred": False, "sortMeta": 0}
STARTED = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class Grafana(Backend):
    name = "grafana"

    def __init__(self, faults=None, password: str | None = None, tenant: str | Callable[[], str] = "lgtm-smoke-dev",
                 upstream: Callable[[str], str] | None = None, user: str = "admin"):
        super().__init__(faults)
        self.user = user
        self._password = password if password is not None else "admin"
        self._tenant = tenant
        self._upstream = upstream or (lambda tg: "http://127.0.0.1:9")
        self.http = requests.Session()

    def __repr__(self) -> str:  # the password stays out of every repr
        return f"Grafana(user={self.user!r}, password=***)"

    @property
    def tenant_id(self) -> str:
        return self._tenant() if callable(self._tenant) else self._tenant

    # --- auth -----------------------------------------------------------------------------
    def _login(self, req: Request) -> str:
        """'admin' for a valid login, 'anonymous' (Viewer) under grafana-anonymous; else 401."""
        header = req.headers.get("authorization") or ""
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                abort(json_response(BAD_LOGIN, 401))
            accepted = [self._password] + (["admin"] if "grafana-default-password" in self.faults else [])
            if user == self.user and any(hmac.compare_digest(password.encode(), p.encode()) for p in accepted):
                return "admin"
            abort(json_response(BAD_LOGIN, 401))
        if "grafana-anonymous" in self.faults:
            return "anonymous"
        abort(json_response(UNAUTHORIZED, 401))

    def _admin(self, req: Request) -> None:
        if self._login(req) != "admin":
            abort(json_response({
                "accessErrorId": "ACE0000000001", "message": "You'll need additional permissions to perform this "
                "action. Permissions needed: datasources:read", "title": "Access denied"}, 403))

    # --- public ---------------------------------------------------------------------------
    @route("/api/health", methods=("GET",))
    def health(self, req: Request) -> Response:
        return json_response({"commit": COMMIT, "database": "ok", "version": VERSION})

    @route("/metrics", methods=("GET",))
    def metrics(self, req: Request) -> Response:
        # Grafana serves its own metrics without a login by default ([metrics] enabled = true).
        return plain(200, f'grafana_build_info{{version="{VERSION}"}} 1\n', "text/plain; version=0.0.4")

    # --- logged in ------------------------------------------------------------------------
    @route("/api/user", methods=("GET",))
    def user(self, req: Request) -> Response:
        if self._login(req) != "admin":
            return json_response({"message": "user not found"}, 404)
        return json_response({"id": 1, "uid": "admin", "login": self.user, "email": "admin@localhost", "name": "",
                              "orgId": 1, "isGrafanaAdmin": True, "isDisabled": False, "isExternal": False,
                              "isExternallySynced": False, "isGrafanaAdminExternallySynced": False,
                              "authLabels": [], "theme": "", "avatarUrl": "/avatar/46d229b033af06a191ff2267bca9ae56",
                              "createdAt": STARTED, "updatedAt": STARTED, "accessControl": {}})

    @route("/api/search", methods=("GET",))
    def search(self, req: Request) -> Response:
        self._login(req)
        return json_response([DASHBOARD_HIT])

    @route("/api/admin/settings", methods=("GET",))
    def admin_settings(self, req: Request) -> Response:
        if self._login(req) != "admin":  # server admins only (settings:read)
            abort(json_response({"message": "Permission denied"}, 403))
        # SettingsBag: section -> key -> value, secrets as Grafana redacts them
        return json_response({"security": {"admin_user": self.user, "admin_password": "*********",
                                           "disable_initial_admin_creation": "false"},
                              "auth.anonymous": {"enabled": str("grafana-anonymous" in self.faults).lower(),
                                                 "org_role": "Viewer"},
                              "server": {"http_port": "3000", "protocol": "http"},
                              "metrics": {"enabled": "true"}})

    @route("/api/datasources", methods=("GET",))
    def datasources(self, req: Request) -> Response:
        self._admin(req)
        return json_response([self._summary(ds) for ds in DATASOURCES])

    @route("/api/datasources/uid/<uid>", methods=("GET",))
    def datasource(self, req: Request, uid: str) -> Response:
        self._admin(req)
        ds = self._find(uid)
        body = self._summary(ds)
        body.update({"withCredentials": False, "secureJsonFields": self._secure_fields(ds), "version": 1})
        return json_response(body)

    @route("/api/datasources/uid/<uid>/health", methods=("GET",))
    def datasource_health(self, req: Request, uid: str) -> Response:
        self._login(req)
        ds = self._find(uid)
        method, path, body, ok_message = HEALTH_QUERIES[ds.type]
        try:
            r = self._forward(ds, method, path, body, {"Content-Type": "application/json"} if body else {})
        except requests.RequestException as e:
            return json_response({"message": f"{ds.type_name} health check failed: {type(e).__name__}",
                                  "status": "ERROR"}, 400)
        if 200 <= r.status_code < 300:
            return json_response({"message": ok_message, "status": "OK"})
        text = r.text.strip()[:200]
        return json_response({"message": f"{ds.type_name}: {r.status_code} {text}", "status": "ERROR"}, 400)

    @route("/api/datasources/proxy/uid/<uid>", "/api/datasources/proxy/uid/<uid>/<path:rest>")
    def proxy(self, req: Request, uid: str, rest: str = "") -> Response:
        self._login(req)  # Viewers (anonymous) may query
        ds = self._find(uid)
        rest = "/" + rest
        query = req.query_string.decode("latin-1")
        headers = {k: v for k, v in (("Content-Type", req.headers.get("content-type")),
                                     ("Accept", req.headers.get("accept"))) if v}
        try:
            r = self._forward(ds, req.method, rest + (f"?{query}" if query else ""), req.get_data() or None, headers)
        except requests.RequestException:
            return json_response({"message": "Bad Gateway"}, 502)
        out = {k: v for k, v in r.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "content-type"}
        return Response(r.content, r.status_code, headers=out, content_type=r.headers.get("Content-Type"))

    def not_found(self, req: Request) -> Response:
        if req.path.startswith("/api/"):
            return json_response({"message": "Not found"}, 404)
        return super().not_found(req)

    # --- helpers --------------------------------------------------------------------------
    def _find(self, uid: str) -> Datasource:
        ds = BY_UID.get(uid)
        if ds is None:
            abort(json_response({"message": "Data source not found"}, 404))
        return ds

    def _has_header(self, ds: Datasource) -> bool:
        return not ("grafana-datasource-no-tenant" in self.faults and ds.uid == NO_TENANT_DATASOURCE)

    def _secure_fields(self, ds: Datasource) -> dict:
        return {"httpHeaderValue1": True} if self._has_header(ds) else {}

    def _summary(self, ds: Datasource) -> dict:
        json_data = {"httpHeaderName1": TENANT_HEADER} if self._has_header(ds) else {}
        return {"id": ds.id, "uid": ds.uid, "orgId": 1, "name": ds.name, "type": ds.type, "typeName": ds.type_name,
                "typeLogoUrl": f"public/app/plugins/datasource/{ds.type}/img/logo.svg", "access": "proxy",
                "url": self._upstream(ds.target_group) + ds.path, "user": "", "database": "", "basicAuth": False,
                "isDefault": ds.is_default, "jsonData": json_data, "readOnly": True}

    def _forward(self, ds: Datasource, method: str, path_qs: str, body, headers: dict) -> requests.Response:
        headers = dict(headers)
        if self._has_header(ds):
            headers[TENANT_HEADER] = self.tenant_id
        url = self._upstream(ds.target_group) + ds.path + path_qs
        return self.http.request(method, url, data=body, headers=headers, timeout=(2, 30), allow_redirects=False)
