"""The local reference stack: real nginx (ALB) in front of real Prometheus (behind a
Mimir gate) and contract-faithful stand-ins for the backends that cannot run here.

Everything listens on free 127.0.0.1 ports. Faults can be switched while the stack runs,
so a whole fault matrix runs on one stack.
"""
from __future__ import annotations

import atexit
import dataclasses
import json
import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from lgtm_smoke.data import routes as routes_mod

from .faults import Faults
from .nginx import Listeners, Nginx
from .ports import closed_port, free_port
from .prometheus import PrometheusPool
from .tempo import default_search_lag
from .web import Backend, BackendServer


def _drop_target(target_group: str) -> Callable:
    def apply(table: routes_mod.RouteTable) -> None:
        table.rules = [r for r in table.rules if r.target_group != target_group]
    return apply


def _expose_admin_endpoints(table: routes_mod.RouteTable) -> None:
    """Someone widened Mimir's rules to its admin paths (and dropped any deny rules)."""
    mimir = next((r for r in table.rules if r.target_group == "mimir"), None)
    table.rules = [r for r in table.rules if r.fixed is None]
    table.rules.append(routes_mod.Rule(9, "mimir-admin-exposed", ADMIN_EXPOSED, target_group="mimir",
                                       edge_auth=bool(mimir and mimir.edge_auth)))
    table.rules.sort(key=lambda r: r.priority)


# Admin routes a real Mimir 2.17 registers (admin-routes.json): a config dump, a flush, a shutdown.
ADMIN_EXPOSED = ("/config", "/ingester/flush", "/ingester/shutdown")


def _otlp_to_api_port(table: routes_mod.RouteTable) -> None:
    """The seeds' bug: /v1/traces forwarded to Tempo's API target group (3200), which has no OTLP route."""
    table.rules = [dataclasses.replace(r, target_group="tempo") if r.target_group == "tempo-otlp" else r
                   for r in table.rules]


def _tempo_prefix_kept(table: routes_mod.RouteTable) -> None:
    """The /tempo/* rule without its url-rewrite transform: Tempo sees /tempo/api/... and answers 404."""
    table.rules = [dataclasses.replace(r, rewrite=None) if r.target_group == "tempo" else r for r in table.rules]


def _tempo_admin_via_prefix(table: routes_mod.RouteTable) -> None:
    """The old deny-list rule: every /tempo/<x> to Tempo as /<x>, /tempo/shutdown and /tempo/flush included."""
    tempo = [r for r in table.rules if r.target_group == "tempo"]
    if tempo:
        first = min(tempo, key=lambda r: r.priority)
        table.rules = [r for r in table.rules if r not in tempo]
        table.rules.append(dataclasses.replace(first, name="tempo-api", paths=("/tempo/*",),
                                               rewrite=first.rewrite or ("^/tempo/(.*)$", "/$1")))
        table.rules.sort(key=lambda r: r.priority)


def _forward_unknown_paths(table: routes_mod.RouteTable) -> None:
    """The default action forwards to Grafana (every backend path Grafana does not know is its 404)."""
    table.default = routes_mod.AlbRule(0, "default", (), target_group="grafana")


def _http_not_redirected(table: routes_mod.RouteTable) -> None:
    """The HTTP listener serves the rules in plain text instead of redirecting to HTTPS."""
    table.listeners["http"] = {k: v for k, v in table.listeners.get("http", {}).items() if k != "redirect_to"}


def _edge_auth_off(table: routes_mod.RouteTable) -> None:
    table.rules = [dataclasses.replace(r, edge_auth=False) for r in table.rules]


# fault name -> how it changes the ALB's route table (other faults act in the backends)
ROUTE_FAULTS: dict[str, Callable[[routes_mod.RouteTable], None]] = {
    "mimir-route-404": _drop_target("mimir"),
    "loki-route-404": _drop_target("loki"),
    "admin-endpoint-exposed": _expose_admin_endpoints,
    "tempo-otlp-misrouted": _otlp_to_api_port,
    "tempo-prefix-not-stripped": _tempo_prefix_kept,
    "pyroscope-route-404": _drop_target("pyroscope"),
    "tempo-admin-via-prefix": _tempo_admin_via_prefix,
    "alb-forwards-unknown-paths": _forward_unknown_paths,
    "http-not-redirected": _http_not_redirected,
    "edge-auth-off": _edge_auth_off,
}


def _backends(pool: PrometheusPool, faults: Faults, grafana: dict | None = None,
              tempo_search_lag: float | None = None) -> dict[str, Backend]:
    """target group -> the Backend that serves it. `grafana`: the Grafana stand-in's settings
    (password, tenant, upstream: target group -> base URL, resolved per request)."""
    from .grafana import Grafana
    from .loki import LokiEmulator
    from .mimir import MimirGate
    from .pyroscope import PyroscopeEmulator
    from .tempo import tempo_backends

    return {
        "mimir": MimirGate(pool, faults),
        "loki": LokiEmulator(faults),
        **tempo_backends(faults, tempo_search_lag),
        "pyroscope": PyroscopeEmulator(faults),
        "grafana": Grafana(faults, **(grafana or {})),
    }


class ReferenceStack:
    """`tls`: nginx serves HTTPS from the stack's own CA (`ca_bundle`) and its HTTP listener
    redirects; off (a test of something else), the rules listener is plain HTTP."""

    def __init__(self, faults: list[str] | tuple[str, ...] = (), routes_path: str | None = None,
                 tenants: tuple[str, ...] = (), grafana_password: str | None = None, tls: bool = True,
                 tempo_search_lag: float | None = None, alloy_interval: float | None = None,
                 rule_files: tuple[Path, ...] = (), access_log: bool = False):
        self.faults = Faults(faults)
        self.grafana_password = grafana_password or secrets.token_urlsafe(12)  # never logged
        self.edge_secret = secrets.token_urlsafe(24)  # never logged; the header the ALB rules require
        # The one tenant id of the stack (seeds: unified across Alloy, Grafana and backends).
        self.grafana_tenant = tenants[0] if tenants else "lgtm-smoke-dev"
        self.base_routes = routes_mod.load(routes_path)
        self.prestart_tenants = tenants
        self.tls = tls
        # None: Tempo's own timing (5-15 s), unless LGTM_REFSTACK_TEMPO_SEARCH_LAG fixes it
        self.tempo_search_lag = tempo_search_lag if tempo_search_lag is not None else default_search_lag()
        self.workdir: Path | None = None
        self.servers: dict[str, BackendServer] = {}
        self.nginx: Nginx | None = None
        self.pool: PrometheusPool | None = None
        self.certs: dict[str, object] = {}
        self.alloy = None
        self.alloy_interval = alloy_interval  # None: the shipped scrape_interval (30 s)
        self.rule_files = rule_files  # alert/recording rules every tenant's Prometheus evaluates (Mimir's ruler)
        self.log_requests = access_log  # nginx logs every request's size (nginx.ACCESS_LOG_FORMAT) to `access_log`
        self._down_port = closed_port()

    # --- lifecycle -----------------------------------------------------------------
    def start(self) -> ReferenceStack:
        t0 = time.monotonic()
        self.workdir = Path(tempfile.mkdtemp(prefix="lgtm-refstack-"))
        try:
            if self.tls:
                from . import tls

                self.certs = {"trusted": tls.make(self.workdir / "tls", "stack"),
                              "untrusted": tls.make(self.workdir / "tls", "untrusted")}
            self.pool = PrometheusPool(self.workdir / "prometheus", self.rule_files)
            grafana = {"password": self.grafana_password, "tenant": lambda: self.grafana_tenant,
                       "upstream": self._upstream_url}
            for tg, backend in _backends(self.pool, self.faults, grafana, self.tempo_search_lag).items():
                self.servers[tg] = BackendServer(backend).start()
            self.nginx = Nginx(self.workdir / "nginx", free_port(), free_port(),
                               self.workdir / "nginx" / "access.log" if self.log_requests else None)
            self.nginx.start(self._listeners())
            for tenant in self.prestart_tenants:  # the first push should not pay for a TSDB start
                self.pool.get(tenant)
            from .alloy import Collector

            # Alloy reaches Mimir and Loki inside the VPC: their tasks directly, not the ALB
            self.alloy = Collector(self._upstream_url, lambda: self.grafana_tenant, self.faults,
                                   self.alloy_interval).start()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)  # an exception or Ctrl-C anywhere still stops nginx and Prometheus
        self.started_in = time.monotonic() - t0
        return self

    def stop(self) -> None:
        atexit.unregister(self.stop)
        if self.alloy:
            self.alloy.stop()
            self.alloy = None
        if self.nginx:
            self.nginx.stop()
            self.nginx = None
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        if self.pool:
            self.pool.stop()
            self.pool = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> ReferenceStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- faults ----------------------------------------------------------------------
    def set_faults(self, specs: list[str] | tuple[str, ...]) -> None:
        """Switch faults on a running stack (routes reload in nginx; backends re-read)."""
        self.faults.set(specs)
        for server in self.servers.values():
            server.backend.requests_seen = 0  # flaky-5xx counts from the switch
        self.nginx.reload(self._listeners())
        if self.alloy:
            self.alloy.nudge()

    def routes(self) -> routes_mod.RouteTable:
        """The route table with the active faults applied."""
        table = self.base_routes.copy()
        for name in self.faults.active:
            if name in ROUTE_FAULTS:
                ROUTE_FAULTS[name](table)
        return table

    def alb_rules(self) -> list[routes_mod.AlbRule]:
        """The effective listener rules: what nginx does and what `listener_rules` says."""
        return self.routes().alb_rules()

    def _listeners(self) -> Listeners:
        table = self.routes()
        cert = self.certs.get("untrusted" if "tls-untrusted" in self.faults else "trusted")
        self._write_listener_rules(table)
        return Listeners(table.alb_rules(), table.default, self._upstreams(), (cert.chain, cert.key) if cert else None,
                         http_redirects=table.http_redirects, edge_secrets=(self.edge_secret,))

    def _write_listener_rules(self, table: routes_mod.RouteTable) -> None:
        path = self.listener_rules
        path.touch(mode=0o600)  # it holds the edge secret, as DescribeRules does
        rules = routes_mod.describe_rules(table, (self.edge_secret,), stack="lgtm-refstack")
        path.write_text(json.dumps(rules, indent=1))

    def _upstreams(self) -> dict[str, str]:
        ups = {}
        for tg, spec in self.base_routes.target_groups.items():
            server = self.servers.get(tg)
            down = server is None or self.faults.down(spec.get("service", tg))
            ups[tg] = f"127.0.0.1:{self._down_port if down else server.port}"
        return ups

    def _upstream_url(self, target_group: str) -> str:
        """Where a service inside the VPC (Grafana) reaches a target group: its tasks directly."""
        return f"http://{self._upstreams()[target_group]}"

    def session(self):
        """A requests.Session that talks to the stack's ALB as an authenticated client does:
        its CA trusted, its edge secret sent."""
        import requests

        s = requests.Session()
        s.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment silently outranks s.verify
        s.verify = str(self.ca_bundle) if self.ca_bundle else True
        s.headers["X-LGTM-Edge-Secret"] = self.edge_secret
        return s

    def suite_env(self) -> dict[str, str]:
        """The environment a smoke run against this stack needs (lgtm-smoke reads each as its
        option's fallback): the CA of its HTTPS listener, its edge secret, its listener rules."""
        env = {"LGTM_EDGE_SECRET": self.edge_secret, "LGTM_LISTENER_RULES": str(self.listener_rules),
               "LGTM_ALB_HTTP": self.http_url}
        if self.ca_bundle is not None:
            env["LGTM_CA_BUNDLE"] = str(self.ca_bundle)
        return env

    def suite_args(self) -> list[str]:
        """Options a smoke run against this stack needs: its Grafana login, CA, edge secret and
        listener rules; no AWS behind it. (`=` form: a token_urlsafe secret may start with "-",
        which argparse reads as an option.) Throwaway secrets of a local stack; a real gate
        passes them by environment (suite_env), never on a command line."""
        args = [f"--grafana-password={self.grafana_password}", f"--edge-secret={self.edge_secret}",
                f"--listener-rules={self.listener_rules}", f"--alb-http={self.http_url}", "--skip-aws"]
        if self.ca_bundle is not None:
            args.append(f"--ca-bundle={self.ca_bundle}")
        return args

    # --- what users need ---------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.nginx.url

    @property
    def http_url(self) -> str:
        """The plain-HTTP listener (it redirects to `url`)."""
        return self.nginx.http_url

    @property
    def ca_bundle(self) -> Path | None:
        """The CA the stack's HTTPS listener is trusted by (None without TLS)."""
        cert = self.certs.get("trusted")
        return cert.ca if cert else None

    @property
    def access_log(self) -> Path | None:
        """nginx's log of every request (nginx.ACCESS_LOG_FORMAT), when started with access_log=True."""
        return self.nginx.access_log if self.nginx else None

    @property
    def listener_rules(self) -> Path:
        """JSON shaped like ELBv2 DescribeRules `Rules`: the effective rules, faults applied."""
        return self.workdir / "listener-rules.json"

    def backend(self, target_group: str) -> Backend:
        return self.servers[target_group].backend

    def state_changes(self) -> Counter[str]:
        """Calls a real backend would have acted on ("<target group> METHOD path" -> count)."""
        out: Counter[str] = Counter()
        for tg, server in self.servers.items():
            for call, n in server.backend.state_changes.items():
                out[f"{tg} {call}"] += n
        return out

    def describe(self) -> dict:
        return {
            "alb": self.url,
            "faults": self.faults.describe(),
            "backends": {tg: s.url for tg, s in self.servers.items()},
        }
