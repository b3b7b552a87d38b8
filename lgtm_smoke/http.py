"""HTTP through the ALB: one pooled session, every exchange kept as evidence, and
connection failures turned into one line that names the cause.
"""
from __future__ import annotations

import re
import socket
import ssl
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from .config import Alb

BODY_PREVIEW = 300
_DEFAULT = object()


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

    def json(self):
        import json

        return json.loads(self.body)

    def preview(self, limit: int = BODY_PREVIEW) -> str:
        text = self.text.strip()
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S) if "html" in self.content_type else None
        if title:  # an ALB or proxy error page: its title says it all
            return f"HTML page {title.group(1).strip()!r}"
        text = text.replace("\n", "\\n")
        if not text:
            return "(empty body)"
        return text if len(text) <= limit else text[:limit] + f"… ({len(self.body)} bytes)"

    def summary(self) -> str:
        who = f"tenant {self.tenant!r}" if self.tenant else "no tenant"
        return f"{self.method} {self.path} ({who}) → {self.status}: {self.preview()}"


def _classify(exc: Exception, alb: Alb) -> Unreachable:
    where = f"{alb.host}:{alb.port or (443 if alb.scheme == 'https' else 80)}"
    chain, e = [], exc
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = " ".join(str(c) for c in chain)
    if isinstance(exc, requests.exceptions.SSLError) or any(isinstance(c, ssl.SSLError) for c in chain):
        return Unreachable(f"TLS handshake with {where} failed: use http:// or fix the listener certificate", "tls")
    if any(isinstance(c, socket.gaierror) for c in chain) or "Name or service not known" in text \
            or "NameResolutionError" in text or "nodename nor servname" in text or "Temporary failure in name resolution" in text:
        return Unreachable(f"cannot resolve {alb.host!r}: check --alb (the ALB's DNS name)", "dns")
    if any(isinstance(c, ConnectionRefusedError) for c in chain) or "Connection refused" in text:
        return Unreachable(f"connection refused by {where}: nothing listens there (wrong --alb port, or the listener is down)", "refused")
    if isinstance(exc, requests.exceptions.Timeout):
        return Unreachable(f"no answer from {where} in time: security group, listener or network path", "timeout")
    return Unreachable(f"cannot talk to {where}: {type(exc).__name__}", "connection")


class Client:
    """Requests to the ALB. `tenant` defaults to the run's; pass None to send no header."""

    def __init__(self, alb: Alb, tenant: str | None, timeout: tuple[float, float] = (3.05, 15.0),
                 edge_secret: str | None = None):
        self.alb = alb
        self.tenant = tenant
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "lgtm-smoke"
        if edge_secret:  # infra/routes.json edge_auth.header; a session header, never shown in an Exchange
            self.session.headers["X-LGTM-Edge-Secret"] = edge_secret

    def request(self, method: str, path: str, *, tenant=_DEFAULT, headers: dict | None = None,
                params=None, data: bytes | None = None, json=None, auth=None, timeout=None) -> Exchange:
        tenant = self.tenant if tenant is _DEFAULT else tenant
        hdrs = dict(headers or {})
        if tenant:
            hdrs["X-Scope-OrgID"] = tenant
        t0 = time.monotonic()
        try:
            r = self.session.request(method, self.alb.url(path), headers=hdrs, params=params, data=data,
                                     json=json, auth=auth, timeout=timeout or self.timeout, allow_redirects=False)
        except requests.RequestException as e:
            raise _classify(e, self.alb) from None
        shown = path
        if params:
            from urllib.parse import urlencode

            shown = f"{path}?{urlencode(params)}"
        return Exchange(method, shown, tenant, r.status_code, r.headers.get("Content-Type", ""), r.content,
                        time.monotonic() - t0)

    def get(self, path: str, **kw) -> Exchange:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> Exchange:
        return self.request("POST", path, **kw)

    def close(self) -> None:
        self.session.close()
