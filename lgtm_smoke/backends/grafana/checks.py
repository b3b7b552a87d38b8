"""Grafana's own checks: health, login required for the API and the data path (no
anonymous access), the default admin password refused. The checks that read a backend
through Grafana (datasource, proxy read) belong to that backend's folder."""
from __future__ import annotations

from ...outcome import CheckFailed, check
from ...probe import ProbeContext, expect_now
from . import client as grafana

AREA = "grafana"
NEEDS = ("alb", "target_group.grafana")


@check("grafana.health", needs=NEEDS)
def health(ctx: ProbeContext) -> dict:
    ex = expect_now(ctx.client.get("/api/health", tenant=None), "health")
    body = grafana.grafana_json(ex, "health")
    if not isinstance(body, dict) or body.get("database") != "ok":
        got = body.get("database") if isinstance(body, dict) else body
        raise CheckFailed(f"health: GET /api/health → database {got!r}, expected 'ok': {ex.preview(160)} — "
                          "Grafana cannot reach its database")
    return {"version": body.get("version"), "commit": body.get("commit"), "database": body["database"]}


@check("grafana.anonymous", needs=NEEDS)
def anonymous(ctx: ProbeContext) -> dict:
    """Without credentials the API and (when we can find a datasource) the data path answer 401."""
    paths = ["/api/datasources", "/api/search"]
    if grafana.credentials(ctx).present:  # also try the data path an anonymous Viewer would use
        ds = grafana.find_datasource(ctx, "mimir")
        paths.append(f"/api/datasources/proxy/uid/{ds['uid']}/api/v1/query?query=vector(1)")
    seen: dict[str, int] = {}
    for path in paths:
        ex = ctx.client.get(path, tenant=None)
        seen[path.split("?")[0]] = ex.status
        if ex.status != 401:
            raise CheckFailed(f"grafana: GET {path} without credentials → {ex.status}, expected 401: {ex.preview(120)}"
                              + (" — anonymous access is on: anyone reaching the ALB browses dashboards and queries "
                                 "every datasource under the stack's tenant" if ex.status in (200, 403) else ""))
        if not path.startswith("/api/datasources/proxy"):
            grafana.grafana_json(ex, "login")
    return {"unauthenticated": seen}


@check("grafana.default_password", needs=NEEDS)
def default_password(ctx: ProbeContext) -> dict:
    ex = ctx.client.get("/api/user", tenant=None, auth=grafana.DEFAULT_ADMIN)
    if ex.status == 401:
        return {"request": "GET /api/user as admin/admin", "status": 401, "answer": ex.preview(80)}
    if ex.status == 200:
        raise CheckFailed("grafana: GET /api/user with admin/admin → 200: Grafana still has its default admin "
                          "password — anyone reaching the ALB is Grafana admin (reads every datasource, edits "
                          "datasources and users); set GF_SECURITY_ADMIN_PASSWORD")
    raise CheckFailed(f"grafana: GET /api/user with admin/admin → {ex.status}, expected 401: {ex.preview(120)}")
