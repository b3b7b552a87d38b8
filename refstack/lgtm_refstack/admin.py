"""The admin, debug and internal routes each real backend registers, for the stand-ins.

`data/admin-routes.json` is a verbatim copy of ../shared/contracts/admin-routes.json (a test
holds them equal): per backend and pinned version, every route outside the push/query APIs
with its methods, whether it changes state, and the real answer to a GET. A stand-in
registers each route the real binary registers, so a route the ALB wrongly opens answers
through the reference stack as it would in production (`/tempo/metrics` is a 200 here too),
and it answers harmlessly: a recorded GET answer, or for a state-changing call an answer
that acts on nothing, counted (`Backend.state_changes`) so a test can prove the smoke suite
sends none.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# A state-changing route has no recorded GET answer (it was never called). What the stand-in
# answers instead, acting on nothing: Tempo's /shutdown as recorded in `options_shutdown_check`,
# every other flush/shutdown/delete an empty 204, as dskit's and the backends' handlers write.
SHUTDOWN_ACK = (200, "text/plain; charset=utf-8", b"shutdown job acknowledged")
NO_CONTENT = (204, None, b"")


@dataclass(frozen=True)
class AdminRoute:
    backend: str
    path: str                                  # werkzeug rule syntax
    methods: tuple[str, ...] | None            # None: any method (no method matcher)
    changes_state: bool | tuple[str, ...]      # True, False, or the methods that act
    answer: tuple[int, str | None, bytes]      # status, content type, body
    no_tenant: tuple[int, bytes] | None        # the answer without X-Scope-OrgID, when it differs
    source: str


@cache
def catalogue() -> dict:
    return json.loads((resources.files("lgtm_refstack") / "data" / "admin-routes.json").read_text())


def _rule_path(path: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


def _answer(route: dict, backend: dict) -> tuple[int, str | None, bytes] | None:
    get = route.get("get")
    if get and get.get("status") is not None:
        body = get["body"].encode() if get.get("body") is not None else base64.b64decode(get.get("body_base64", ""))
        return get["status"], get.get("content_type"), body
    if route["changes_state"] is True or isinstance(route["changes_state"], str):
        if route["path"] == "/shutdown" and "options_shutdown_check" in backend:
            check = backend["options_shutdown_check"]["options_shutdown"]
            return check["status"], check["content_type"], check["body"].encode()
        return NO_CONTENT
    return None  # e.g. Tempo's /status/<unknown>: the real handler panics and drops the connection


def routes(backend: str) -> list[AdminRoute]:
    """The routes the real `backend` registers (registered: false ones are 404s there too)."""
    spec = catalogue()["backends"][backend]
    out = []
    for r in spec["routes"]:
        if r.get("registered") is False or r["methods"] == []:
            continue
        answer = _answer(r, spec)
        if answer is None:
            continue
        changes = r["changes_state"]
        changes = tuple(changes.split(",")) if isinstance(changes, str) else bool(changes)
        methods = None if r["methods"] == "any" else tuple(r["methods"])
        no_tenant = None
        if r.get("no_tenant_status") not in (None, answer[0]):
            no_tenant = (r["no_tenant_status"], (r.get("no_tenant_body") or "no org id\n").encode())
        paths = [_rule_path(r["path"])]
        request = r.get("request", "").split("?")[0]
        if r["path"].endswith("/") and request.startswith(r["path"]) and request != r["path"]:
            paths.append(_rule_path(r["path"]) + "<path:rest>")  # a PathPrefix route
        for path in paths:
            out.append(AdminRoute(backend, path, methods, changes, answer, no_tenant, r["source"]))
    return out
