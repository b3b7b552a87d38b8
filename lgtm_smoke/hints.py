"""Likely causes for well-known answers, appended to a failure's one-line cause.

Each mirrors an incident in the seeds (see docs/runbook.md).
"""
from __future__ import annotations

from .http import Exchange


def hint(ex: Exchange, phase: str) -> str:
    text = ex.text.lower()
    if ex.status == 404 and "404 page not found" in text and ex.path.startswith("/tempo/"):
        return " — Tempo got the /tempo prefix: is the ALB url-rewrite transform missing?"
    if ex.status == 404:
        return " — no ALB rule routes this path to its backend (it fell through to the default target)?"
    if ex.status == 401 and "no org id" in text:
        return " — the X-Scope-OrgID header did not reach the backend"
    if ex.status == 403:
        return " — blocked at the ALB (a deny rule matches this path)"
    if ex.status == 502:
        return " — the ALB reached no running target: is the backend's ECS service up?"
    if ex.status == 503:
        return " — no healthy target or the backend is not ready (check target-group health)"
    if ex.status == 504:
        return " — the target did not answer in time"
    return ""
