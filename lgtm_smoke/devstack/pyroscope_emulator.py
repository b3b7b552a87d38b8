"""Placeholder Pyroscope; the profile suite replaces it."""
from __future__ import annotations

from .httpbase import Backend, Request, Response, route


class PyroscopeEmulator(Backend):
    name = "pyroscope"

    @route("GET", "/ready")
    def ready(self, req: Request) -> Response:
        return Response.text(200, "ready", "text/plain")
