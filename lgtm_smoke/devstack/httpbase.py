"""A tiny threaded HTTP framework for the reference stack's backend stand-ins.

Each stand-in subclasses `Backend`, declares routes with `@route`, and answers with
`Response`. The base class owns what every backend shares: the tenant rule
(`X-Scope-OrgID` or the backend's real "no org id" answer), and the faults that
apply to any backend (`flaky-5xx`, `slow-ingest`, `tenant-leak`, `*-no-auth`).
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


@dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, text: str, content_type: str = TEXT) -> "Response":
        return cls(status, text, content_type)

    @classmethod
    def json(cls, payload, status: int = 200, content_type: str = JSON) -> "Response":
        import json

        return cls(status, json.dumps(payload, separators=(",", ":")), content_type)


class HTTPError(Exception):
    """Raise from a handler to answer with an error response."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def route(method: str, pattern: str):
    """Mark a Backend method as the handler of METHOD on a full-match path regex."""

    def mark(fn):
        fn._route = (method, re.compile(pattern))
        return fn

    return mark


class Backend:
    """Base of every stand-in. Subclasses set `name` and `no_auth_tenant`."""

    name = "backend"
    # The tenant a real backend uses when multitenancy is off (its S3 footprint).
    no_auth_tenant = "anonymous"
    # Paths that never need a tenant (health, readiness).
    public_paths: tuple[str, ...] = ("/ready",)

    def __init__(self, faults=None):
        from .faults import Faults

        self.faults = faults if faults is not None else Faults()
        self.lock = threading.RLock()
        self.requests_seen = 0
        self._routes: list[tuple[str, re.Pattern, Callable]] = []
        for attr in dir(type(self)):
            fn = getattr(type(self), attr)
            if callable(fn) and hasattr(fn, "_route"):
                method, rx = fn._route
                self._routes.append((method, rx, getattr(self, attr)))

    # --- fault-aware helpers for subclasses -------------------------------------------
    def tenant(self, req: Request) -> str:
        """The request's tenant, or the backend's real answer to a missing one."""
        org = (req.header("x-scope-orgid") or "").strip()
        if org:
            return org
        if self.faults.no_auth(self.name):
            return self.no_auth_tenant
        raise HTTPError(self.no_org_id_response(req))

    def no_org_id_response(self, req: Request) -> Response:
        return Response.text(401, "no org id\n")

    def tenant_filter(self, tenant: str) -> Callable[[str], bool]:
        """Which stored tenants a query may see: its own, or all under `tenant-leak`."""
        if self.faults.tenant_leak(self.name):
            return lambda _t: True
        return lambda t: t == tenant

    def visible_at(self) -> float:
        """When data ingested now becomes queryable (`slow-ingest` delays it)."""
        return time.time() + self.faults.slow_ingest(self.name)

    # --- dispatch ---------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        with self.lock:
            self.requests_seen += 1
            seen = self.requests_seen
        if seen <= self.faults.flaky_5xx(self.name):
            return Response.text(503, f"{self.name}: injected fault flaky-5xx ({seen})\n")
        path_matched = False
        for method, rx, fn in self._routes:
            if rx.fullmatch(req.path):
                path_matched = True
                if method == req.method or (method == "GET" and req.method == "HEAD") or method == "*":
                    try:
                        return fn(req)
                    except HTTPError as e:
                        return e.response
        if path_matched:
            return Response.text(405, "405 method not allowed\n")
        return Response.text(404, "404 page not found\n")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx upstreams expect
    # TCP_NODELAY, as Go's net/http (Mimir, Loki, Tempo, Grafana) sets it: headers and body go
    # out in two writes, and with Nagle + nginx's delayed ACK every answer waited ~40 ms.
    disable_nagle_algorithm = True
    server_version = "lgtm-devstack"
    sys_version = ""

    def _serve(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            resp = self.server.backend.handle(req)
        except Exception as e:  # a stand-in bug must look like a 500, not a hang
            resp = Response.text(500, f"internal error: {type(e).__name__}: {e}\n")
        payload = resp.body.encode() if isinstance(resp.body, str) else resp.body
        self.send_response(resp.status)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve

    def log_message(self, format, *args):  # quiet: the stack's own log says what matters
        pass


class BackendServer:
    """Serve one Backend on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, backend: Backend, port: int = 0):
        self.backend = backend
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.backend = backend
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"devstack-{backend.name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "BackendServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
