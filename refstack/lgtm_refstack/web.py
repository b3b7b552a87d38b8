"""The stand-ins' HTTP layer, on werkzeug: routing (`werkzeug.routing.Map`), werkzeug's
request and response objects, and a threaded WSGI server on 127.0.0.1.

Each stand-in subclasses `Backend` and declares its routes with `@route`. The base class owns
what every backend shares: the tenant rule (`X-Scope-OrgID`, or the backend's real "no org id"
answer), the faults that apply to any backend (`flaky-5xx`, `slow-ingest`, `tenant-leak`,
`*-no-auth`), gorilla/mux's answers to an unknown path or method, and the count of
state-changing calls (`changes_state`), which a test holds at zero for a whole smoke run.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, abort
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as _Response

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"

__all__ = ["JSON", "TEXT", "Backend", "BackendServer", "Request", "Response", "abort", "answer", "json_response", "plain",
           "route"]


class Response(_Response):
    # Go's net/http sends no Content-Type on an empty answer (Mimir's push 200, Tempo's 404 for
    # an unknown trace): every answer that has one says so explicitly.
    default_mimetype = None


class MatchRule(Rule):
    """A rule the stand-ins only match requests against, never build URLs from: werkzeug
    generates each rule's URL builder with an AST compile (~2 ms a rule), which for the ~190
    routes of the stand-ins (admin routes included) was most of the stack's start."""

    def _compile_builder(self, append_unknown: bool = True):
        def unbuildable(*_args, **_kwargs):
            raise NotImplementedError("stand-in routes are matched, never built")

        return unbuildable


def plain(status: int, body: str, content_type: str = TEXT) -> Response:
    return Response(body, status, content_type=content_type)


def json_response(payload, status: int = 200, content_type: str = JSON) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status, content_type=content_type)


def answer(response: Response) -> HTTPException:
    """An exception that, raised from a handler, answers with `response`."""
    return HTTPException(response=response)


def route(*paths: str, methods: tuple[str, ...] | None = None, changes_state: bool | tuple[str, ...] = False):
    """Mark a Backend method as the handler of `paths` (werkzeug rule syntax). `methods=None`:
    any method, as a gorilla/mux route without a method matcher. `changes_state`: a real
    backend acts on this call (True: on every method; a tuple: on those methods only)."""

    def mark(fn):
        fn._routes = [*getattr(fn, "_routes", []), *((p, methods, changes_state) for p in paths)]
        return fn

    return mark


class Backend:
    """Base of every stand-in. Subclasses set `name` and `no_auth_tenant`."""

    name = "backend"
    # The tenant a real backend uses when multitenancy is off (its S3 footprint).
    no_auth_tenant = "anonymous"
    # Which backend's admin/debug routes (admin.py, from the recorded contract) it also serves.
    admin_routes: str | None = None

    def __init__(self, faults=None):
        from .faults import Faults

        self.faults = faults if faults is not None else Faults()
        self.lock = threading.RLock()
        self.requests_seen = 0
        self.state_changes: Counter[str] = Counter()  # "METHOD path" -> calls a real backend would act on
        rules, self._acts = [], {}
        for attr in sorted(dir(type(self))):
            for path, methods, changes in getattr(getattr(type(self), attr), "_routes", ()):
                endpoint = f"{attr}#{len(rules)}"
                rules.append(MatchRule(path, endpoint=endpoint, methods=methods))
                self._acts[endpoint] = (getattr(self, attr), changes)  # bound now: attributes may shadow names
        if self.admin_routes:
            rules += self._admin_rules({r.rule for r in rules})
        # A rule without variables matches before one with them, as a static route in mux wins.
        self.urls = Map(rules, strict_slashes=False, merge_slashes=False)

    def _admin_rules(self, served: set[str]) -> list[Rule]:
        """The real backend's admin/debug routes (admin.py) this stand-in does not serve itself."""
        from . import admin

        rules = []
        for spec in admin.routes(self.admin_routes):
            if spec.path in served:
                continue
            endpoint = f"admin#{spec.path}#{len(rules)}"
            rule = MatchRule(spec.path, endpoint=endpoint, methods=spec.methods)
            if rule.methods is not None and "HEAD" not in spec.methods:
                rule.methods.discard("HEAD")  # gorilla/mux adds no HEAD to a GET route: 405, as recorded
            rules.append(rule)
            self._acts[endpoint] = (self._admin_handler(spec), spec.changes_state)
        return rules

    @staticmethod
    def _admin_handler(spec) -> Callable:
        def answer(req: Request, **_: str) -> Response:
            if spec.no_tenant and not (req.headers.get("X-Scope-OrgID") or "").strip():
                return plain(spec.no_tenant[0], spec.no_tenant[1].decode())
            status, content_type, body = spec.answer
            return Response(body, status, content_type=content_type)
        return answer

    # --- fault-aware helpers for subclasses -------------------------------------------
    def tenant(self, req: Request) -> str:
        """The request's tenant, or the backend's real answer to a missing one."""
        org = (req.headers.get("X-Scope-OrgID") or "").strip()
        if org:
            return org
        if self.faults.no_auth(self.name):
            return self.no_auth_tenant
        abort(self.no_org_id_response(req))

    def no_org_id_response(self, req: Request) -> Response:
        return plain(401, "no org id\n")

    def tenant_filter(self, tenant: str) -> Callable[[str], bool]:
        """Which stored tenants a query may see: its own, or all under `tenant-leak`."""
        if self.faults.tenant_leak(self.name):
            return lambda _t: True
        return lambda t: t == tenant

    def visible_at(self) -> float:
        """When data ingested now becomes queryable (`slow-ingest` delays it)."""
        return time.time() + self.faults.slow_ingest(self.name)

    def not_found(self, req: Request) -> Response:
        return plain(404, "404 page not found\n")  # gorilla/mux's NotFoundHandler

    # --- dispatch ---------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        with self.lock:
            self.requests_seen += 1
            seen = self.requests_seen
        if seen <= self.faults.flaky_5xx(self.name):
            return plain(503, f"{self.name}: injected fault flaky-5xx ({seen})\n")
        try:
            endpoint, args = self.urls.bind_to_environ(req.environ).match()
        except NotFound:
            return self.not_found(req)
        except MethodNotAllowed:
            return Response(status=405)  # gorilla/mux: empty body, no Content-Type
        handler, changes = self._acts[endpoint]
        if changes is True or (changes and req.method in changes):
            with self.lock:
                self.state_changes[f"{req.method} {req.path}"] += 1
        try:
            return handler(req, **args)
        except HTTPException as e:
            return e.get_response()

    def wsgi(self, environ, start_response):
        req = Request(environ)
        try:
            resp = self.handle(req)
        except Exception as e:  # noqa: BLE001 -- a stand-in bug must look like a 500, not a hang
            resp = plain(500, f"internal error: {type(e).__name__}: {e}\n")
        return resp(environ, start_response)


class _Handler(WSGIRequestHandler):
    # TCP_NODELAY, as Go's net/http (Mimir, Loki, Tempo, Grafana) sets it: headers and body go
    # out in two writes, and with Nagle + nginx's delayed ACK every answer waited ~40 ms.
    disable_nagle_algorithm = True
    server_version = "lgtm-refstack"
    sys_version = ""

    def log(self, type: str, message: str, *args) -> None:  # quiet: the stack's own log says what matters
        pass


class BackendServer:
    """Serve one Backend on 127.0.0.1:<free port> in a daemon thread. `backend` may be swapped
    while serving (a test's fresh stand-in); each request reads it anew."""

    def __init__(self, backend: Backend, port: int = 0, host: str = "127.0.0.1"):
        self.backend = backend
        self.httpd = make_server(host, port, lambda env, start: self.backend.wsgi(env, start), threaded=True,
                                 request_handler=_Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"refstack-{backend.name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BackendServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
