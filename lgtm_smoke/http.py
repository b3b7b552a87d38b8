"""HTTP through the ALB: one pooled session, every exchange kept as evidence, connection
failures turned into one line that names the cause.

TLS is verified (the system trust store, or `--ca-bundle`); `--insecure` turns that off
explicitly and the verdict says so. The edge secret (`--edge-secret`) goes out as the
`X-LGTM-Edge-Secret` header on every request unless a request passes `edge_auth=False`
(the edge-auth checks prove an unauthenticated request is refused); it never appears in
any text this module makes (`preview`, `summary`, errors are redacted).
"""
from __future__ import annotations

import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter

from . import retry
from .settings import Alb, Secret, redact

BODY_PREVIEW = 300
EDGE_HEADER = "X-LGTM-Edge-Secret"
TENANT_HEADER = "X-Scope-OrgID"
BAD_GATEWAY_ATTEMPTS = 3  # the ALB's own 502 (target refused): two more tries, then it is the answer
_DEFAULT: Any = object()


class Unreachable(Exception):
    """The request never got an HTTP answer (DNS, refused, TLS, timeout). One-line message."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind  # "dns" | "refused" | "tls" | "timeout" | "connection"


@dataclass
class Exchange:
    method: str
    path: str
    tenant: str | None
    status: int
    content_type: str
    body: bytes
    elapsed: float
    attempts: int = 1  # how many sends it took to get this answer

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        import json

        return json.loads(self.body)

    def preview(self, limit: int = BODY_PREVIEW) -> str:
        text = redact(self.text.strip())
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S) if "html" in self.content_type else None
        if title:  # an ALB or proxy error page: its title says it all
            return f"HTML page {title.group(1).strip()!r}"
        text = text.replace("\n", "\\n")
        if not text:
            return "(empty body)"
        return text if len(text) <= limit else text[:limit] + f"… ({len(self.body)} bytes)"

    def who(self) -> str:
        return f"tenant {self.tenant!r}" if self.tenant else "no tenant"

    def summary(self) -> str:
        return f"{self.method} {self.path} ({self.who()}) → {self.status}: {self.preview()}"


def classify(exc: BaseException, alb: Alb) -> Unreachable:
    """One line naming why a request got no HTTP answer."""
    where = f"{alb.host}:{alb.port or (443 if alb.scheme == 'https' else 80)}"
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = " ".join(str(c) for c in chain)
    if isinstance(exc, requests.exceptions.SSLError) or any(isinstance(c, ssl.SSLError) for c in chain):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return Unreachable(f"TLS certificate of {where} is not trusted: pass --ca-bundle <CA PEM> (or, "
                               "knowingly, --insecure)", "tls")
        return Unreachable(f"TLS handshake with {where} failed: use http:// or fix the listener certificate", "tls")
    if any(isinstance(c, socket.gaierror) for c in chain) or "Name or service not known" in text \
            or "NameResolutionError" in text or "nodename nor servname" in text \
            or "Temporary failure in name resolution" in text:
        return Unreachable(f"cannot resolve {alb.host!r}: check --alb (the ALB's DNS name)", "dns")
    if any(isinstance(c, ConnectionRefusedError) for c in chain) or "Connection refused" in text:
        return Unreachable(f"connection refused by {where}: nothing listens there (wrong --alb port, or the "
                           "listener is down)", "refused")
    if isinstance(exc, requests.exceptions.Timeout):
        return Unreachable(f"no answer from {where} in time: security group, listener or network path", "timeout")
    return Unreachable(f"cannot talk to {where}: {type(exc).__name__}", "connection")


class Client:
    """Requests to the ALB. `tenant` defaults to the run's; pass None to send no header.

    `settle=True` (the default) rides out answers that mean "try again" — 429, 5xx, a reset
    connection — a few times with backoff (retry.settle); the ALB's own 502 only twice more,
    and a refused or unresolvable ALB never: a dead backend or ALB never waits.
    `settle=False` sends exactly once (a check that expects a 5xx)."""

    def __init__(self, alb: Alb, tenant: str | None, *, verify: bool | str = True, edge_secret: Secret | None = None,
                 timeout: tuple[float, float] = (3.05, 15.0)):
        self.alb = alb
        self.tenant = tenant
        self.timeout = timeout
        self.edge_secret = edge_secret
        self.verify = verify  # passed on every request: requests lets REQUESTS_CA_BUNDLE beat session.verify
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "lgtm-smoke"
        # Read the environment's proxies once, here, and never again: requests otherwise reads
        # os.environ on every request from the probe threads while pytest rewrites
        # PYTEST_CURRENT_TEST in the main thread (a KeyError mid-iteration, seen in the fault matrix).
        self.session.proxies = requests.utils.get_environ_proxies(alb.url("/"))
        self.session.trust_env = False  # verify is passed per request; no .netrc for the ALB
        if verify is False:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the verdict says it once

    def headers(self, tenant: str | None, edge_auth: bool = True) -> dict[str, str]:
        """The headers every request carries: tenant and (unless `edge_auth=False`) the edge secret."""
        out = {TENANT_HEADER: tenant} if tenant else {}
        if edge_auth and self.edge_secret:
            out[EDGE_HEADER] = self.edge_secret.reveal()
        return out

    def send_once(self, method: str, path: str, *, tenant: Any = _DEFAULT, headers: dict[str, Any] | None = None,
                  params: Any = None, data: bytes | None = None, json: Any = None, auth: Any = None,
                  timeout: Any = None, edge_auth: bool = True) -> Exchange:
        tenant = self.tenant if tenant is _DEFAULT else tenant
        hdrs = {**(headers or {}), **self.headers(tenant, edge_auth)}
        t0 = time.monotonic()
        try:
            r = self.session.request(method, self.alb.url(path), headers=hdrs, params=params, data=data,
                                     json=json, auth=auth, timeout=timeout or self.timeout, allow_redirects=False,
                                     verify=self.verify)
        except requests.RequestException as e:
            raise classify(e, self.alb) from None
        shown = path
        if params:
            from urllib.parse import urlencode

            shown = f"{path}?{urlencode(params)}"
        return Exchange(method, shown, tenant, r.status_code, r.headers.get("Content-Type", ""), r.content,
                        time.monotonic() - t0)

    def request(self, method: str, path: str, *, settle: bool = True, **kw: Any) -> Exchange:
        if not settle:
            return self.send_once(method, path, **kw)
        count = {"n": 0}

        def send() -> Exchange:
            count["n"] += 1
            ex = self.send_once(method, path, **kw)
            ex.attempts = count["n"]
            return ex

        def blip(ex: Exchange) -> bool:
            if ex.status == 502:
                return ex.attempts < BAD_GATEWAY_ATTEMPTS
            return ex.status == 429 or ex.status >= 500

        return retry.settle(send, blip, lambda e: isinstance(e, Unreachable) and e.kind == "connection")

    def get(self, path: str, **kw: Any) -> Exchange:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Exchange:
        return self.request("POST", path, **kw)

    def close(self) -> None:
        self.session.close()


def recording_session(client: Client, path: str, tenant: str | None) -> "RecordingSession":
    """A requests session for a third-party exporter (the OTel SDK) that sends like `client`
    (TLS, edge secret) and keeps every answer as an Exchange."""
    session = RecordingSession(path, tenant, client.headers(None), client.verify)
    session.proxies, session.trust_env = dict(client.session.proxies), False  # as Client: no env reads per request
    return session


class RecordingSession(requests.Session):
    """Every answer the session gets is kept as an Exchange, because an exporter itself only
    logs failures."""

    def __init__(self, path: str, tenant: str | None, extra_headers: dict[str, str] | None = None,
                 verify: bool | str = True):
        super().__init__()
        self.tls_verify = verify
        self.path, self.tenant = path, tenant
        self.exchanges: list[Exchange] = []
        self.errors: list[Exception] = []
        self.headers["User-Agent"] = "lgtm-smoke (opentelemetry-exporter-otlp-proto-http)"
        self.headers.update(extra_headers or {})

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        t0 = time.monotonic()
        # The suite's TLS setting wins: exporters before 1.45 pass their own verify=True (or an
        # OTEL_* env path) on every post, which would ignore --ca-bundle / --insecure
        kwargs["verify"] = self.tls_verify
        try:
            r = super().request(method if isinstance(method, str) else method.decode(), url, *args, **kwargs)
        except requests.RequestException as e:
            self.errors.append(e)
            raise
        self.exchanges.append(Exchange(str(method), self.path, self.tenant, r.status_code,
                                       r.headers.get("Content-Type", ""), r.content, time.monotonic() - t0))
        return r


Send = Callable[[], Exchange]
