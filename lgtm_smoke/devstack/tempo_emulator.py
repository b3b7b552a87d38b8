"""Placeholder Tempo (two ports like the real one); the trace suite replaces it."""
from __future__ import annotations

from .httpbase import Backend, Request, Response, route


class TempoAPI(Backend):
    name = "tempo"
    no_auth_tenant = "single-tenant"

    @route("GET", "/ready")
    def ready(self, req: Request) -> Response:
        return Response.text(200, "ready\n")


class TempoOTLP(Backend):
    name = "tempo"
    no_auth_tenant = "single-tenant"


def tempo_backends(faults) -> dict[str, Backend]:
    return {"tempo": TempoAPI(faults), "tempo-otlp": TempoOTLP(faults)}
