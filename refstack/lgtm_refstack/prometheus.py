"""Real Prometheus (Debian's package) as Mimir's storage and PromQL engine.

One Prometheus per tenant, started on first use: tenant isolation is then real (each
tenant has its own TSDB), and every PromQL query is answered by the real engine. Given rule
files, each one evaluates them on its tenant's data, as Mimir's ruler does per tenant; its
alerts are at `/api/v1/alerts`.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import requests

from . import processes
from .ports import free_port
from .processes import ServiceStartError

MAX_TENANTS = 16  # a bound: the smoke suite uses two or three


def binary() -> str:
    found = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
    if not found:
        raise ServiceStartError("prometheus not found: install Debian's prometheus (apt-get install -y prometheus)")
    return found


class Prometheus:
    def __init__(self, workdir: Path, rule_files: tuple[Path, ...] = ()):
        self.workdir = workdir
        self.rule_files = rule_files  # each rule group carries its own evaluation `interval`
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> Prometheus:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "prometheus.yml"
        rule_files = json.dumps([str(f) for f in self.rule_files])  # a JSON list is a YAML flow sequence
        conf.write_text(f"global: {{}}\nscrape_configs: []\nrule_files: {rule_files}\n")
        self.proc = subprocess.Popen(
            [binary(), f"--config.file={conf}", f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver",
             "--log.level=error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace").strip().splitlines()
                raise ServiceStartError(f"prometheus exited: {err[-1] if err else 'no output'}")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=0.5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.02)
        self.stop()
        raise ServiceStartError(f"prometheus not ready on {self.url} within {timeout}s")

    def stop(self) -> None:
        processes.stop(self.proc)


class PrometheusPool:
    """tenant -> its own running Prometheus."""

    def __init__(self, workdir: Path, rule_files: tuple[Path, ...] = ()):
        self.workdir = workdir
        self.rule_files = rule_files
        self._by_tenant: dict[str, Prometheus] = {}
        self._lock = threading.Lock()

    def get(self, tenant: str) -> Prometheus:
        with self._lock:
            prom = self._by_tenant.get(tenant)
            if prom is None:
                if len(self._by_tenant) >= MAX_TENANTS:
                    raise ServiceStartError(f"reference stack: more than {MAX_TENANTS} tenants")
                prom = Prometheus(self.workdir / f"tenant-{len(self._by_tenant)}", self.rule_files).start()
                self._by_tenant[tenant] = prom
            return prom

    def stop(self) -> None:
        with self._lock:
            for prom in self._by_tenant.values():
                prom.stop()
            self._by_tenant.clear()
