"""--push-results against the reference stack: the run's outcome lands in the stack's
Mimir under the run's tenant, a fault shows as 0, and a failed push never changes the
exit code. Every dashboard query answers with the pushed data."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from lgtm_smoke.verdict import push as rp

MARK = "smoke and (mimir or loki) and not (security or grafana)"  # the round trips
MIMIR = "test_remote_write_sample_reads_back_exactly"
LOKI = {"test_json_push_reads_back_exactly", "test_protobuf_push_reads_back_exactly"}
DASHBOARD = Path(__file__).resolve().parents[2] / "infra/images/grafana/dashboards/lgtm-smoke.json"


def query(stack, promql: str) -> list[dict]:
    tenant = stack.prestart_tenants[0]  # the tenant run_smoke passes to the suite
    with stack.session() as session:
        r = session.get(f"{stack.url}/prometheus/api/v1/query", params={"query": promql},
                        headers={"X-Scope-OrgID": tenant}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]["result"]


def fresh(stack, selector: str, since: float) -> dict[tuple, float]:
    """Series of `selector` whose latest sample was written after `since` (this run's),
    keyed by (check, backend)."""
    out = {}
    stamps = {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in query(stack, f"timestamp({selector})")}
    for s in query(stack, selector):
        key = tuple(sorted((k, v) for k, v in s["metric"].items() if k != "__name__"))
        if stamps.get(key, 0) >= since:
            out[(s["metric"].get("check"), s["metric"].get("backend"))] = float(s["value"][1])
    return out


def sel(metric: str) -> str:
    return f'{metric}{{job="{rp.JOB}"}}'


def test_healthy_run_pushes_every_series(run_smoke, stack):
    since = time.time() - 0.001
    t0 = time.monotonic()
    run = run_smoke(MARK, [], "--push-results")
    wall = time.monotonic() - t0
    assert run.returncode == 0, run.output
    assert "pushed 7 result series to Mimir (tenant 't-integration'" in run.output, run.output
    checks = fresh(stack, sel(rp.CHECK_SUCCESS), since)
    assert checks == {(MIMIR, "mimir"): 1.0, **{(n, "loki"): 1.0 for n in LOKI}}
    readback = fresh(stack, sel(rp.READBACK_SECONDS), since)
    assert set(readback) == {(None, "mimir"), (None, "loki")}
    assert all(0 < v < 3 for v in readback.values()), readback
    assert fresh(stack, sel(rp.RUN_SUCCESS), since) == {(None, None): 1.0}
    (duration,) = fresh(stack, sel(rp.RUN_DURATION), since).values()
    assert 0 < duration < wall


def test_fault_run_pushes_zeros(run_smoke, stack):
    since = time.time() - 0.001
    run = run_smoke(MARK, ["loki-route-404"], "--push-results", timeout=1)
    assert run.returncode == 1, run.output
    checks = fresh(stack, sel(rp.CHECK_SUCCESS), since)
    assert checks == {(MIMIR, "mimir"): 1.0, **{(n, "loki"): 0.0 for n in LOKI}}
    assert query(stack, f'min({rp.CHECK_SUCCESS}{{job="{rp.JOB}", backend="loki"}})')[0]["value"][1] == "0"
    assert fresh(stack, sel(rp.RUN_SUCCESS), since) == {(None, None): 0.0}
    # Loki never read back: no read-back latency for it from this run (mimir's is there).
    assert set(fresh(stack, sel(rp.READBACK_SECONDS), since)) == {(None, "mimir")}


def test_env_var_turns_it_on_and_no_flag_pushes_nothing(run_smoke, stack):
    since = time.time() - 0.001
    run = run_smoke("smoke and mimir", [])
    assert run.returncode == 0, run.output
    assert "result series" not in run.output and not fresh(stack, sel(rp.RUN_SUCCESS), since)
    run = run_smoke("smoke and mimir", [], env={"LGTM_PUSH_RESULTS": "1"})
    assert run.returncode == 0, run.output
    assert fresh(stack, sel(rp.RUN_SUCCESS), since) == {(None, None): 1.0}


def test_failed_push_is_one_warning_line_and_keeps_the_exit_code(run_smoke, stack):
    """Mimir down: the loki checks still pass, so the verdict is green and stays exit 0."""
    run = run_smoke("smoke and loki", ["mimir-down"], "--push-results")
    assert run.returncode == 0, run.output
    warnings = [line for line in run.output.splitlines() if "--push-results" in line]
    assert len(warnings) == 1 and warnings[0].startswith("WARNING: --push-results: POST /api/v1/push"), run.output
    assert "→ 502" in warnings[0] and "Traceback" not in run.output


def _exprs(dashboard: dict):
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def test_every_dashboard_query_answers_with_pushed_data(run_smoke, stack):
    run = run_smoke(MARK, ["loki-route-404"], "--push-results", timeout=1)  # some zeros,
    run = run_smoke(MARK, [], "--push-results")  # then a green run: every series has data
    assert run.returncode == 0, run.output
    run = run_smoke(MARK, [], "--push-results", "--push-source", "canary")  # and the canary's history
    assert run.returncode == 0, run.output
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = list(_exprs(dashboard))
    assert exprs
    for title, expr in exprs:
        promql = re.sub(r"\$\{?backend\}?", ".+", re.sub(r"\$__(range|rate_interval|interval)", "5m", expr))
        for source in rp.SOURCES:  # every value of the Source variable
            answer = query(stack, promql.replace("$source", source))
            assert answer, f"panel {title!r}: {promql} (source {source}) returned nothing"
            expected = source if "$source" in expr else "canary"  # the canary panel reads the canary's alone
            assert {s["metric"]["source"] for s in answer if "source" in s["metric"]} <= {expected}, answer
