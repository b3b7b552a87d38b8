"""A collector that behaves as the shipped Alloy (infra/images/alloy/config.alloy) toward the
backends: every `scrape_interval` it remote-writes its own metrics (`prometheus.exporter.self`
scraped by `prometheus.scrape "alloy"`) to Mimir, and it ships its own log lines
(`logging { write_to = [loki.write.default.receiver] }`) to Loki, both with the stack's one
tenant (`LGTM_TENANT_ID` of its task definition) and over the INTERNAL path: straight to the
backends' tasks (Cloud Map names in ECS), never through the ALB.

What it sends is what Alloy v1.11.3 sends, so queries written for the real one work here:
`alloy_build_info{job="integrations/self", instance=<host>}` (exporter targets get
`job="integrations/<exporter>"`, internal/component/prometheus/exporter/exporter.go, and the
self exporter is named "self") plus `up` and the scrape's own series; logs as logfmt lines under
`{component="alloy"}` (internal/runtime/logging). Faults: `alloy-stopped` (nothing is sent any
more), `alloy-wrong-tenant` (everything goes to another tenant, as a wrong LGTM_TENANT_ID does).
"""
from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from lgtm_smoke.protocol import loki_push, remote_write

VERSION = "v1.11.3"  # image_versions.alloy in common.tfvars
CONFIG = Path(__file__).resolve().parents[2] / "infra" / "images" / "alloy" / "config.alloy"
DEFAULT_SCRAPE_INTERVAL = 30.0
WRONG_TENANT = "alloy-misconfigured-tenant"  # what a wrong LGTM_TENANT_ID makes it write as


def shipped_scrape_interval(config: Path = CONFIG) -> float:
    """scrape_interval of `prometheus.scrape "alloy"` in the shipped config (30 s when absent)."""
    if not config.is_file():
        return DEFAULT_SCRAPE_INTERVAL
    block = re.search(r'prometheus\.scrape\s+"alloy"\s*\{(.*?)\n\}', config.read_text(), re.DOTALL)
    m = re.search(r'scrape_interval\s*=\s*"(\d+)s"', block.group(1)) if block else None
    return float(m.group(1)) if m else DEFAULT_SCRAPE_INTERVAL


class Collector:
    """`upstream(target_group)` is the backend's internal base URL; `tenant()` the stack's tenant.
    `interval` defaults to the shipped scrape interval (tests may shorten it)."""

    def __init__(self, upstream: Callable[[str], str], tenant: Callable[[], str], faults,
                 interval: float | None = None):
        self.upstream, self.tenant, self.faults = upstream, tenant, faults
        self.interval = interval if interval is not None else shipped_scrape_interval()
        self.instance = socket.gethostname()
        self.started = time.time()
        self.sent = {"metrics": 0, "logs": 0}  # successful pushes, for tests
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="refstack-alloy", daemon=True)
        self.http = requests.Session()

    def start(self) -> Collector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        self.http.close()

    def nudge(self) -> None:
        """Scrape now (a fault switch: the next sample shows the new state at once)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if "alloy-stopped" not in self.faults:
                self.scrape_once()
            self._wake.wait(self.interval)
            self._wake.clear()

    def _tenant(self) -> str:
        return WRONG_TENANT if "alloy-wrong-tenant" in self.faults else self.tenant()

    def scrape_once(self) -> None:
        now_ms = int(time.time() * 1000)
        tenant = self._tenant()
        target = {"job": "integrations/self", "instance": self.instance}
        series = [
            remote_write.Series({"__name__": "alloy_build_info", **target, "version": VERSION, "branch": "HEAD",
                                 "goos": "linux", "goarch": "amd64", "tags": "netgo,builtinassets"}, 1, now_ms),
            remote_write.Series({"__name__": "alloy_component_controller_running_components", **target,
                                 "health_type": "healthy"}, 9, now_ms),
            remote_write.Series({"__name__": "up", **target}, 1, now_ms),
            remote_write.Series({"__name__": "scrape_samples_scraped", **target}, 3, now_ms),
        ]
        line = (f'ts={time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())}.{now_ms % 1000:03d}Z level=info '
                f'msg="scrape finished" component_path=/ component_id=prometheus.scrape.alloy '
                f'target=integrations/self samples={len(series)}')
        stream = loki_push.Stream({"component": "alloy"}, [(now_ms * 1_000_000, line)])
        headers = {"X-Scope-OrgID": tenant}
        self._post("metrics", "mimir", "/api/v1/push", remote_write.encode(series), {**remote_write.HEADERS, **headers})
        self._post("logs", "loki", "/loki/api/v1/push", loki_push.encode_protobuf([stream]),
                   {**loki_push.PROTOBUF_HEADERS, **headers})

    def _post(self, what: str, target_group: str, path: str, body: bytes, headers: dict) -> None:
        try:  # like Alloy, a failed write is retried at the next scrape, never fatal
            r = self.http.post(self.upstream(target_group) + path, data=body, headers=headers, timeout=2)
        except requests.RequestException:
            return
        if r.status_code < 300:
            self.sent[what] += 1
