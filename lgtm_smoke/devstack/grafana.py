"""Placeholder Grafana (the ALB's default target); the Grafana suite replaces it."""
from __future__ import annotations

from .httpbase import Backend, Request, Response, route


class Grafana(Backend):
    name = "grafana"
    public_paths = ("/api/health",)

    @route("GET", "/api/health")
    def health(self, req: Request) -> Response:
        return Response.json({"database": "ok", "version": "12.1.0"})
