"""The preconditions HTTP checks need, each established once per run (runner.Preconditions):

- `alb`: the ALB's name resolves, it takes a TCP connection and, for https, completes a
  verified TLS handshake;
- `target_group.<name>`: one harmless read through the ALB reaches that routes.json target
  group's backend (not the ALB's fixed 404, another backend's not-found page, or a 5xx);
- `grafana.login`: the run's Grafana user logs in.

A check that needs a failed one is BLOCKED by it; its cause is the one line the verdict's
headline shows for all of them ("ALB 127.0.0.1:1 refuses connections — 51 checks blocked").
Nothing here writes: every request is a read every backend answers harmlessly.
"""
from __future__ import annotations

import socket
import ssl
from typing import Any, Callable

from .http import Client, Unreachable
from .outcome import CheckFailed
from .probe import ProbeContext, hint
from .settings import Settings

# target group -> (a read its backend answers harmlessly, the answers that prove it got there).
# tests/unit/test_preconditions.py holds each path to routes.json: it must route to that group.
TARGET_GROUP_PROBES: dict[str, tuple[str, tuple[int, ...]]] = {
    "grafana": ("/api/health", (200,)),
    "mimir": ("/prometheus/api/v1/labels", (200, 401)),  # buildinfo is a status route: not in the allow-list
    "loki": ("/loki/api/v1/labels", (200, 401)),
    "tempo": ("/tempo/api/echo", (200,)),
    "tempo-otlp": ("/v1/traces", (405,)),  # the OTLP receiver takes POST only: a GET proves it is there
    "pyroscope": ("/pyroscope/render?query=process_cpu:cpu:nanoseconds:cpu:nanoseconds%7Bservice_name%3D%22lgtm-smoke%22%7D"
                  "&from=now-5m&until=now", (200, 400, 401)),
}


def alb(settings: Settings, timeout: float = 3.05) -> dict[str, Any]:
    """DNS, TCP and (https) a verified TLS handshake to the ALB; CheckFailed naming which failed."""
    a = settings.alb
    port = a.port or (443 if a.scheme == "https" else 80)
    where = f"ALB {a.host}:{port}"
    try:
        infos = socket.getaddrinfo(a.host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise CheckFailed(f"{where}: its name does not resolve (check --alb)") from None
    try:
        sock = socket.create_connection((str(infos[0][4][0]), int(infos[0][4][1])), timeout=timeout)
    except ConnectionRefusedError:
        raise CheckFailed(f"{where} refuses connections (nothing listens there: wrong --alb port, or the listener "
                          "is down)") from None
    except OSError as e:
        raise CheckFailed(f"{where} does not answer ({e.strerror or type(e).__name__}): security group, listener or "
                          "network path") from None
    with sock:
        if a.scheme == "https":
            context = ssl.create_default_context(cafile=settings.ca_bundle) if settings.verify else \
                ssl._create_unverified_context()
            try:
                context.wrap_socket(sock, server_hostname=a.host).close()
            except ssl.SSLCertVerificationError as e:
                raise CheckFailed(f"{where}: TLS certificate not trusted ({e.verify_message}): pass --ca-bundle "
                                  "<CA PEM> (or, knowingly, --insecure)") from None
            except (ssl.SSLError, OSError) as e:
                raise CheckFailed(f"{where}: TLS handshake failed ({type(e).__name__}): use http:// or fix the "
                                  "listener certificate") from None
    return {"alb": where}


def target_group(ctx: ProbeContext, name: str) -> dict[str, Any]:
    """One harmless read through the ALB reaches target group `name`'s backend."""
    if name not in TARGET_GROUP_PROBES:
        return {}  # a group this module does not know how to probe: its checks find out themselves
    path, proof = TARGET_GROUP_PROBES[name]
    try:
        ex = ctx.client.get(path)
    except Unreachable as e:
        raise CheckFailed(f"target group {name}: GET {path.split('?')[0]}: {e}") from None
    if ex.status in proof:
        return {"target_group": name, "status": ex.status}
    shown = f"target group {name}: GET {ex.path.split('?')[0]} → {ex.status}"
    tries = f" after {ex.attempts} attempts" if ex.attempts > 1 else ""
    raise CheckFailed(f"{shown}{tries}: {ex.preview(120)}{hint(ex)}", [f"response body: {ex.preview()}"])


def providers(settings: Settings, client: Client, grafana_login: Callable[[ProbeContext], object]
              ) -> dict[str, Callable[[str], object]]:
    """What runner.Preconditions gets: precondition id (or `target_group.*`) -> provider."""

    def ctx(pid: str) -> ProbeContext:
        return ProbeContext(settings, client, pid)

    return {
        "alb": lambda pid: alb(settings),
        "target_group.*": lambda pid: target_group(ctx(pid), pid.split(".", 1)[1]),
        "grafana.login": lambda pid: _named("Grafana login", grafana_login, ctx(pid)),
    }


def _named(what: str, provider: Callable[[ProbeContext], object], ctx: ProbeContext) -> object:
    try:
        return provider(ctx)
    except CheckFailed as e:
        raise CheckFailed(f"{what} failed: {e.cause}", e.evidence) from None
