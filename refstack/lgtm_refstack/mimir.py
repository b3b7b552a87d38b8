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

from lgtm_smoke.protocol import remote_write

from .prometheus import PrometheusPool
from .web import Backend, Request, Response, plain, route

SHARED = "__all_tenants__"  # where every tenant writes under `tenant-leak`


class MimirGate(Backend):
    name = "mimir"
    no_auth_tenant = "anonymous"  # -auth.no-auth-tenant default
    admin_routes = "mimir"  # /config, /ingester/flush, rings, pprof, ... as Mimir 2.17 registers them

    def __init__(self, pool: PrometheusPool, faults=None):
        super().__init__(faults)
        self.pool = pool
        self.http = requests.Session()

    def _store_key(self, tenant: str) -> str:
        return SHARED if self.faults.tenant_leak(self.name) else tenant

    @route("/ready", methods=("GET",))
    def ready(self, req: Request) -> Response:
        return plain(200, "ready", "text/plain")

    @route("/api/v1/push", methods=("POST",))
    def push(self, req: Request) -> Response:
        tenant = self.tenant(req)
        try:
            series = remote_write.decode(req.get_data())
        except ValueError as e:
            status = 500 if "ingest-5xx-on-garbage" in self.faults else 400
            return plain(status, f"{e}\n")
        if any("__name__" not in s.labels for s in series):
            return plain(500, "no metric name label\n")
        prom = self.pool.get(self._store_key(tenant))
        delay = self.faults.slow_ingest(self.name)
        if delay > 0:
            threading.Timer(delay, self._forward_write, (prom.url, req.get_data())).start()
            return Response(status=200)
        status, text = self._forward_write(prom.url, req.get_data())
        if status >= 300:
            return plain(status, text if text.endswith("\n") else text + "\n")
        return Response(status=200)

    def _forward_write(self, url: str, body: bytes) -> tuple[int, str]:
        r = self.http.post(f"{url}/api/v1/write", data=body, headers=remote_write.HEADERS, timeout=10)
        return r.status_code, r.text

    @route("/prometheus/api/v1/<path:rest>")
    def prometheus_api(self, req: Request, rest: str) -> Response:
        tenant = self.tenant(req)
        prom = self.pool.get(self._store_key(tenant))
        path = req.path[len("/prometheus"):]
        r = self.http.request(req.method, f"{prom.url}{path}", params=list(req.args.items(multi=True)),
                              data=req.get_data() or None,
                              headers={"Content-Type": req.headers.get("content-type", "")} if req.get_data() else None,
                              timeout=30)
        body = r.content
        if r.status_code == 400 and b'"errorType":"bad_data"' in body:
            # Prometheus 2.42 writes `invalid parameter "query": …`; Mimir/Cortex write `…"query"; …`.
            body = re.sub(rb'(invalid parameter \\"\w+\\"): ', rb"\1; ", body, count=1)
        return Response(body, r.status_code, content_type=r.headers.get("Content-Type"))
