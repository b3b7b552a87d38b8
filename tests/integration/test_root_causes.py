"""Root cause first: a dead backend is one line naming its target group with the count of
checks it blocked; blocked checks are JUnit errors carrying the precondition's message; the
password of a stack plugin beats the environment's."""
from __future__ import annotations

import re

DEAD_MIMIR = ("RED: target group mimir: GET /prometheus/api/v1/status/buildinfo → 502 after 3 attempts: "
              "HTML page '502 Bad Gateway' — 5 checks blocked · 1 of 48 checks failed (mimir 1)")


def test_a_dead_backend_is_one_root_cause_with_its_blocked_count(run_smoke):
    run = run_smoke("smoke and not aws", ["mimir-down"])
    assert run.returncode == 1
    assert f"\nverdict: {DEAD_MIMIR}\n" in run.output, run.output[-3000:]
    junit = run.files["junit.xml"]
    errors = re.findall(r'<error message="([^"]*)"', junit)
    assert len(errors) == 5 and all("blocked by target_group.mimir: target group mimir: GET" in e for e in errors)
    # Grafana reaches Mimir on its own path: its datasource check fails on its own, naming what Grafana saw
    assert "test_mimir_datasource_has_tenant_header_and_is_healthy" in run.failed
    assert "Traceback" not in run.output


def test_a_prefix_that_is_not_stripped_is_red_at_once_not_at_the_deadline(run_smoke):
    """The seeds' /tempo 404 incident: Tempo's `404 page not found` is a route miss, never
    "not yet visible" (it used to poll to the read-back deadline)."""
    run = run_smoke("smoke and tempo", ["tempo-prefix-not-stripped"], timeout=30)
    assert run.returncode == 1
    assert "RED: target group tempo: GET /tempo/api/echo → 404: 404 page not found — 5 checks blocked" in run.output
    assert "not visible after" not in run.output
