"""Mimir's API and tenant behaviour in front of real Prometheus.

Answers as ../shared/contracts/mimir.json (Cortex 1.20, Mimir's upstream) shows: push
200 with an empty body, 401 `no org id` without a tenant, `snappy: corrupt input`,
500 `no metric name label`; queries under /prometheus answered by the tenant's own
Prometheus, so PromQL, errors and JSON are the real engine's.
"""
from __future__ import annotations

import re
import threading

import requests

from ..protocol import remote_write
from .httpbase import Backend, Request, Response, route
from .prometheus import PrometheusPool

SHARED = "__all_tenants__"  # where every tenant writes under `tenant-leak`


class MimirGate(Backend):
    name = "mimir"
    no_auth_tenant = "anonymous"  # -auth.no-auth-tenant default

    def __init__(self, pool: PrometheusPool, faults=None):
        super().__init__(faults)
        self.pool = pool
        self.http = requests.Session()

    def _store_key(self, tenant: str) -> str:
        return SHARED if self.faults.tenant_leak(self.name) else tenant

    @route("GET", "/ready")
    def ready(self, req: Request) -> Response:
        return Response.text(200, "ready", "text/plain")

    # Admin endpoints a real Mimir serves on its HTTP port; the ALB must never forward them.
    @route("GET", "/config")
    def config(self, req: Request) -> Response:
        return Response.text(200, "multitenancy_enabled: true\ntarget: all\n", "text/plain; charset=utf-8")

    @route("GET", "/runtime_config")
    def runtime_config(self, req: Request) -> Response:
        return Response.text(200, "overrides: {}\n", "text/plain; charset=utf-8")

    @route("*", "/flush|/ingester/flush")
    def flush(self, req: Request) -> Response:
        if req.method not in ("GET", "POST"):  # registered for GET and POST only, like Mimir's
            return Response.text(405, "405 method not allowed\n")
        return Response(204)

    @route("POST", "/api/v1/push")
    def push(self, req: Request) -> Response:
        tenant = self.tenant(req)
        try:
            series = remote_write.decode(req.body)
        except ValueError as e:
            status = 500 if "ingest-5xx-on-garbage" in self.faults else 400
            return Response.text(status, f"{e}\n")
        if any("__name__" not in s.labels for s in series):
            return Response.text(500, "no metric name label\n")
        prom = self.pool.get(self._store_key(tenant))
        delay = self.faults.slow_ingest(self.name)
        if delay > 0:
            threading.Timer(delay, self._forward_write, (prom.url, req.body)).start()
            return Response(200)
        status, text = self._forward_write(prom.url, req.body)
        if status >= 300:
            return Response.text(status, text if text.endswith("\n") else text + "\n")
        return Response(200)

    def _forward_write(self, url: str, body: bytes) -> tuple[int, str]:
        r = self.http.post(f"{url}/api/v1/write", data=body, headers=remote_write.HEADERS, timeout=10)
        return r.status_code, r.text

    @route("*", "/prometheus/api/v1/.*")
    def prometheus_api(self, req: Request) -> Response:
        tenant = self.tenant(req)
        prom = self.pool.get(self._store_key(tenant))
        path = req.path[len("/prometheus"):]
        r = self.http.request(req.method, f"{prom.url}{path}", params=req.query, data=req.body or None,
                              headers={"Content-Type": req.header("content-type", "")} if req.body else None,
                              timeout=30)
        body = r.content
        if r.status_code == 400 and b'"errorType":"bad_data"' in body:
            # Prometheus 2.42 writes `invalid parameter "query": …`; Mimir/Cortex write `…"query"; …`.
            body = re.sub(rb'(invalid parameter \\"\w+\\"): ', rb"\1; ", body, count=1)
        return Response(r.status_code, body, r.headers.get("Content-Type"))
