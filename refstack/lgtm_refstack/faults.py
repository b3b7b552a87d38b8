"""Named faults of the reference stack: each breaks one thing a smoke check must catch.

A fault is `name` or `name=value`. Faults that apply to every backend (`slow-ingest`,
`flaky-5xx`, `tenant-leak`) can be scoped to one with a prefix: `loki-slow-ingest=3`.
"""
from __future__ import annotations

BACKENDS = ("mimir", "loki", "tempo", "pyroscope", "grafana")

# name -> (takes a value, what it breaks). The fault matrix test walks this table.
KNOWN: dict[str, tuple[bool, str]] = {
    "mimir-route-404": (False, "the ALB has no rule for Mimir's paths; they get the default fixed 404"),
    "loki-route-404": (False, "the ALB has no rule for /loki/*; it gets the default fixed 404"),
    "mimir-down": (False, "Mimir is not running: the ALB answers 502"),
    "loki-down": (False, "Loki is not running: the ALB answers 502"),
    "mimir-no-auth": (False, "Mimir runs with multitenancy off: no X-Scope-OrgID accepted (tenant 'anonymous')"),
    "loki-no-auth": (False, "Loki runs with auth_enabled: false: no X-Scope-OrgID accepted (tenant 'fake')"),
    "tenant-leak": (False, "queries ignore the tenant and see every tenant's data"),
    "slow-ingest": (True, "data becomes queryable only SECONDS after the push"),
    "flaky-5xx": (True, "the first N requests to each backend answer 503"),
    "grafana-down": (False, "Grafana is not running: the ALB answers 502 on Grafana's paths"),
    "grafana-default-password": (False, "Grafana still accepts admin/admin"),
    "grafana-anonymous": (False, "Grafana has anonymous access on: API calls without a login succeed"),
    "grafana-datasource-no-tenant": (False, "the Loki datasource lost its X-Scope-OrgID header: health fails, "
                                            "proxy reads get 401"),
    "admin-endpoint-exposed": (False, "someone widened Mimir's rule: /flush, /config, /runtime_config reach Mimir"),
    "ingest-5xx-on-garbage": (False, "Mimir answers 500 (not 400) to a remote-write body that is not snappy protobuf"),
    "tempo-down": (False, "Tempo is not running: the ALB answers 502 on both of its target groups"),
    "tempo-no-auth": (False, "Tempo runs with multitenancy off: no X-Scope-OrgID accepted (tenant 'single-tenant')"),
    "tempo-otlp-misrouted": (False, "the ALB's /v1/traces rule forwards to Tempo's API port (3200), which answers 404"),
    "tempo-prefix-not-stripped": (False, "the ALB forwards /tempo/* without the url-rewrite: Tempo answers 404"),
    "alloy-stopped": (False, "Alloy is not running: no self-metrics reach Mimir and no logs reach Loki any more"),
    "alloy-wrong-tenant": (False, "Alloy writes its metrics and logs under another tenant (a wrong LGTM_TENANT_ID)"),
    "tempo-admin-via-prefix": (False, ("the Tempo rule forwards all of /tempo/* again: /tempo/shutdown, /tempo/flush, "
                                       "/tempo/metrics reach Tempo")),
    "alb-forwards-unknown-paths": (False, "the ALB's default action forwards to Grafana instead of a fixed 404"),
    "http-not-redirected": (False, "the HTTP listener serves the rules in plain text instead of redirecting to HTTPS"),
    "edge-auth-off": (False, "the ALB rules no longer require the edge-secret header: anyone can write and read"),
    "tls-untrusted": (False, "the HTTPS listener serves a certificate from a CA the suite was not given"),
    "pyroscope-down": (False, "Pyroscope is not running: the ALB answers 502"),
    "pyroscope-no-auth": (False, "Pyroscope accepts requests without X-Scope-OrgID (tenant 'anonymous')"),
    "pyroscope-anonymous": (False, "Pyroscope runs with multitenancy off: every request, with or without a "
                                   "tenant, lands in 'anonymous'"),
    "pyroscope-route-404": (False, "the ALB has no rule for Pyroscope's paths; they get the default fixed 404"),
}
SCOPABLE = ("slow-ingest", "flaky-5xx", "tenant-leak")


class FaultError(ValueError):
    """A fault spec that names no known fault or has a bad value."""


def _split(spec: str) -> tuple[str, str | None]:
    name, _, value = spec.strip().partition("=")
    return name.strip(), (value.strip() if value else None)


def _base_name(name: str) -> str:
    for kind in SCOPABLE:
        for backend in BACKENDS:
            if name == f"{backend}-{kind}":
                return kind
    return name


class Faults:
    """The active faults. Mutable at run time so one stack can serve a whole fault matrix."""

    def __init__(self, specs: list[str] | tuple[str, ...] = ()):
        self.active: dict[str, str | None] = {}
        self.set(specs)

    @staticmethod
    def validate(specs) -> dict[str, str | None]:
        parsed: dict[str, str | None] = {}
        for spec in specs:
            name, value = _split(spec)
            base = _base_name(name)
            if base not in KNOWN:
                raise FaultError(f"unknown fault {name!r}; known faults: {', '.join(sorted(KNOWN))}")
            takes_value = KNOWN[base][0]
            if takes_value:
                try:
                    if value is None or float(value) < 0:
                        raise ValueError
                except ValueError:
                    raise FaultError(f"fault {name!r} needs a non-negative number, e.g. {name}=3") from None
            elif value is not None:
                raise FaultError(f"fault {name!r} takes no value")
            parsed[name] = value
        return parsed

    def set(self, specs) -> None:
        self.active = self.validate(specs)

    def __contains__(self, name: str) -> bool:
        return name in self.active

    def __bool__(self) -> bool:
        return bool(self.active)

    def describe(self) -> list[str]:
        return [n if v is None else f"{n}={v}" for n, v in self.active.items()]

    def _value(self, backend: str, kind: str) -> str | None:
        for name in (f"{backend}-{kind}", kind):
            if name in self.active:
                return self.active[name] or "1"
        return None

    # --- questions the backends and the ALB ask -------------------------------------------
    def no_auth(self, backend: str) -> bool:
        return f"{backend}-no-auth" in self.active

    def tenant_leak(self, backend: str) -> bool:
        return self._value(backend, "tenant-leak") is not None

    def slow_ingest(self, backend: str) -> float:
        return float(self._value(backend, "slow-ingest") or 0)

    def flaky_5xx(self, backend: str) -> int:
        return int(float(self._value(backend, "flaky-5xx") or 0))

    def down(self, backend: str) -> bool:
        return f"{backend}-down" in self.active
