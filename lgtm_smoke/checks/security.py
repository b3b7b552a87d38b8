"""The exposed-endpoint probe (the ALB room replaces it with lgtm_smoke/backends/alb/ and
deletes this module; moved here untouched but for the Check shape)."""
from __future__ import annotations

import json
from importlib import resources

from ..outcome import Check
from ..probe import ProbeContext


def exposed_endpoints() -> list[dict]:
    """lgtm_smoke/data/exposed_endpoints.json: the internal/admin endpoints, as data."""
    text = (resources.files("lgtm_smoke") / "data" / "exposed_endpoints.json").read_text()
    return json.loads(text)["endpoints"]


def exposed(ctx: ProbeContext) -> dict:
    """Every listed endpoint once; the verdict per endpoint is the test's (see test_security)."""
    answers = {}
    for entry in exposed_endpoints():
        ex = ctx.client.request(entry["method"], entry["path"])
        answers[entry["path"]] = {"status": ex.status, "method": ex.method, "body": ex.preview(100)}
    return answers


exposed_endpoints_check = Check("security.exposed_endpoints", "alb", exposed, needs=("alb",))
