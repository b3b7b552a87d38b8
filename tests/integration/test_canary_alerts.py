"""The canary's alert rules (infra/images/mimir/rules/lgtm-smoke-canary.yaml) against what the suite really
pushes, and firing for real.

1. `promtool test rules` over series named exactly as a real `lgtm-smoke canary --once` run against
   the reference stack pushed them (read back from the stack's Prometheus, `source="canary"` and
   all): rename a metric or a label in the pusher and the unit tests stop firing; a rule reading a
   metric the suite does not push fails; the deploy gate's runs (`source="gate"`) never page.
2. The stack's real Prometheus loads the shipped rules (every duration scaled by one factor so
   a 5-minute canary becomes a 10-second one); `lgtm-smoke canary` loops against the stack; a
   fault switched on fires the backend's alert in `/api/v1/alerts`, switched off resolves it, and
   stopping the loop fires the not-reporting alert. Waits are bounded; no speed is asserted.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from alert_rules import CANARY_INTERVAL_S, RULES, promtool, scaled

from lgtm_smoke.verdict import push as rp

MARK = "smoke and (mimir or loki or tempo) and not (security or grafana)"  # the round trips
LOOP_INTERVAL_S = 10.0  # the canary loop's interval here; the rules are scaled to it
FACTOR = LOOP_INTERVAL_S / CANARY_INTERVAL_S
WAIT_BOUND_S = 40 * LOOP_INTERVAL_S  # a bound on every wait for an alert (never asserted as speed)


@pytest.fixture(scope="module")
def stack_options(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / RULES.name
    path.write_text(scaled(RULES.read_text(), FACTOR))
    return {"rule_files": (path,)}


def prometheus(stack) -> str:
    """The URL of the stack tenant's own Prometheus: Mimir's ruler stands in for it."""
    return stack.pool.get(stack.prestart_tenants[0]).url


def pushed_series(stack) -> list[dict[str, str]]:
    r = requests.get(f"{prometheus(stack)}/api/v1/series", params={"match[]": f'{{job="{rp.JOB}", source="canary"}}'},
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# --- 1. promtool unit tests over the real names ----------------------------------------------

def _selector(labels: dict[str, str]) -> str:
    rest = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()) if k != "__name__")
    return f"{labels['__name__']}{{{rest}}}"


def _rule(name: str) -> dict:
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    (rule,) = [r for r in rules if r.get("alert") == name]
    return rule


def _expected(alert: str, labels: dict[str, str], value: str = "") -> dict:
    """The alert as promtool should see it: its labels, and its annotations rendered."""
    rule = _rule(alert)

    def render(text: str) -> str:
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)
        return text.replace("{{ $value | humanizePercentage }}", value)

    return {"exp_labels": {**labels, **rule["labels"]},
            "exp_annotations": {k: render(v) for k, v in rule["annotations"].items()}}


def as_gate(series: dict[str, str]) -> dict[str, str]:
    """The same series as the deploy gate pushes it (`--push-source gate`, the default)."""
    assert series["source"] == "canary" and rp.DEFAULT_SOURCE == "gate", series
    return {**series, "source": rp.DEFAULT_SOURCE}


def unit_tests(pushed: list[dict[str, str]], rule_file: Path) -> dict:
    """promtool tests whose input series are `pushed` (a real canary run's series, labels and all)."""
    by_name: dict[str, list[dict[str, str]]] = {}
    for s in pushed:
        by_name.setdefault(s["__name__"], []).append(s)
    checks = sorted(by_name[rp.CHECK_SUCCESS], key=_selector)
    broken, healthy = checks[0], checks[1:]
    broken_labels = {"backend": broken["backend"], "check": broken["check"]}
    (run,) = by_name[rp.RUN_SUCCESS]
    readback = {s["backend"]: s for s in by_name[rp.READBACK_SECONDS]}
    assert {"mimir", "loki", "tempo"} <= set(readback), readback
    # 15 s: past Mimir's 10 s threshold, inside Tempo's 20 s; Loki stays fast
    slow = {"mimir": "15x100", "tempo": "15x100", "loki": "2x100"}
    return {"rule_files": [str(rule_file)], "evaluation_interval": "1m", "tests": [
        {"name": "one check failing in consecutive runs pages for its backend; one red run alone does not",
         "interval": "5m",
         "input_series": [{"series": _selector(broken), "values": "1 0 0 0 1 1"},
                          *({"series": _selector(s), "values": "1x5"} for s in healthy)],
         "alert_rule_test": [
             {"eval_time": "6m", "alertname": "LgtmSmokeBackendFailing", "exp_alerts": []},
             {"eval_time": "12m", "alertname": "LgtmSmokeBackendFailing",
              "exp_alerts": [_expected("LgtmSmokeBackendFailing", broken_labels)]},
             {"eval_time": "22m", "alertname": "LgtmSmokeBackendFailing", "exp_alerts": []}]},
        {"name": "alternating red and green runs never page",
         "interval": "5m",
         "input_series": [{"series": _selector(broken), "values": "1 0 1 0 1 0 1"}],
         "alert_rule_test": [{"eval_time": t, "alertname": "LgtmSmokeBackendFailing", "exp_alerts": []}
                             for t in ("11m", "16m", "21m", "26m", "31m")]},
        {"name": "no run for three intervals pages",
         "interval": "5m",
         "input_series": [{"series": _selector(run), "values": "1 1 1"}],
         "alert_rule_test": [
             {"eval_time": "20m", "alertname": "LgtmSmokeCanaryNotReporting", "exp_alerts": []},
             {"eval_time": "26m", "alertname": "LgtmSmokeCanaryNotReporting",
              "exp_alerts": [_expected("LgtmSmokeCanaryNotReporting", {"job": rp.JOB, "source": "canary"})]}]},
        {"name": "the deploy gate's red runs never page for the canary, and its green runs never hide a silent canary",
         "interval": "5m",
         "input_series": [{"series": _selector(as_gate(broken)), "values": "0x6"},
                          {"series": _selector(as_gate(run)), "values": "1x6"}],
         "alert_rule_test": [
             {"eval_time": "12m", "alertname": "LgtmSmokeBackendFailing", "exp_alerts": []},
             {"eval_time": "12m", "alertname": "LgtmSmokeCanaryNotReporting",
              "exp_alerts": [_expected("LgtmSmokeCanaryNotReporting", {"job": rp.JOB, "source": "canary"})]}]},
        {"name": "slow read-back burns the latency budget of that backend only (thresholds per backend)",
         "interval": "5m",
         "input_series": [{"series": _selector(readback[b]), "values": slow[b]} for b in ("mimir", "loki", "tempo")],
         "alert_rule_test": [
             {"eval_time": "1h", "alertname": "LgtmSmokeReadbackSloBurn",
              "exp_alerts": [_expected("LgtmSmokeReadbackSloBurn", {"backend": "mimir"}, "100%")]},
             {"eval_time": "7h", "alertname": "LgtmSmokeReadbackSloBudgetLow",
              "exp_alerts": [_expected("LgtmSmokeReadbackSloBudgetLow", {"backend": "mimir"})]}]},
    ]}


def run_promtool_tests(pushed, rule_file: Path, where: Path) -> subprocess.CompletedProcess:
    test_file = where / "canary.test.yaml"
    test_file.write_text(yaml.safe_dump(unit_tests(pushed, rule_file), sort_keys=False))
    return promtool("test", "rules", test_file)


def canary_command(stack, *canary_args: str) -> list[str]:
    """`lgtm-smoke canary ARGS -- <the round trips against the stack>`, as the scheduled task runs it."""
    return [sys.executable, "-m", "lgtm_smoke.cli", "canary", *canary_args, "--",
            "-q", "-p", "no:hypothesispytest", "-m", MARK, "--alb", stack.url, "--tenant", stack.prestart_tenants[0],
            *stack.suite_args()]


def clean_env(stack) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("LGTM_")}, **stack.suite_env()}


@pytest.fixture(scope="module")
def pushed(stack, tmp_path_factory):
    """The series one real (green) canary run of the round trips pushes, labels and all: the
    command sets source="canary" itself."""
    run = subprocess.run(canary_command(stack, "--once", "--deadline", "100"), cwd=tmp_path_factory.mktemp("run"),
                         env=clean_env(stack), capture_output=True, text=True, timeout=130)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    series = [s for s in pushed_series(stack) if s["__name__"] in rp.METRICS]  # not the Mimir check's own probe
    assert {s["__name__"] for s in series} == set(rp.METRICS), series
    assert {s["source"] for s in series} == {"canary"}, series
    return series


def test_rules_fire_on_the_series_a_real_run_pushes(pushed, tmp_path):
    result = run_promtool_tests(pushed, RULES, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout, result.stdout


@pytest.mark.parametrize("rename", [(rp.CHECK_SUCCESS, "lgtm_smoke_check_ok"),
                                    ('backend!="tempo"', 'service!="tempo"'),
                                    ('source="canary"', 'source="gate"')])
def test_a_rule_drifting_from_the_pusher_fails(pushed, tmp_path, rename):
    """Proof the test above can fail: rules that read a name the suite does not push."""
    drifted = tmp_path / RULES.name
    drifted.write_text(RULES.read_text().replace(*rename))
    result = run_promtool_tests(pushed, drifted, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "FAILED" in result.stdout + result.stderr, result.stdout + result.stderr


# --- 2. firing for real ------------------------------------------------------------------------

def alerts(stack) -> list[dict]:
    r = requests.get(f"{prometheus(stack)}/api/v1/alerts", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]["alerts"]


def firing(stack, name: str, **labels: str) -> list[dict]:
    return [a for a in alerts(stack) if a["labels"]["alertname"] == name and a["state"] == "firing"
            and all(a["labels"].get(k) == v for k, v in labels.items())]


def wait_until(holds, what: str, log: Path, stack) -> None:
    """Poll `holds()` until it is true, at most WAIT_BOUND_S; fail naming `what`."""
    end = time.monotonic() + WAIT_BOUND_S
    while time.monotonic() < end:
        if holds():
            return
        time.sleep(0.5)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    pytest.fail(f"{what}: not within {WAIT_BOUND_S:g}s; alerts now {alerts(stack)}\ncanary log:\n{tail}")


def test_canary_loop_fires_and_resolves_alerts_in_prometheus(stack, tmp_path):
    log = tmp_path / "canary.log"
    cmd = [*canary_command(stack, "--interval", str(LOOP_INTERVAL_S), "--deadline", str(LOOP_INTERVAL_S - 2),
                           "--runs", "100"), "--readback-timeout", "3"]
    with log.open("w") as out:
        canary = subprocess.Popen(cmd, cwd=tmp_path, env=clean_env(stack), stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        wait_until(lambda: not firing(stack, "LgtmSmokeCanaryNotReporting"), "the canary reports", log, stack)
        assert not firing(stack, "LgtmSmokeBackendFailing")

        stack.set_faults(["loki-route-404"])
        wait_until(lambda: firing(stack, "LgtmSmokeBackendFailing", backend="loki"),
                   "LgtmSmokeBackendFailing{backend=loki} fires with loki-route-404", log, stack)
        assert not firing(stack, "LgtmSmokeBackendFailing", backend="mimir")  # only the broken backend pages

        stack.set_faults([])
        wait_until(lambda: not [a for a in alerts(stack) if a["labels"]["alertname"] == "LgtmSmokeBackendFailing"],
                   "LgtmSmokeBackendFailing resolves once the fault is off", log, stack)

        os.killpg(canary.pid, signal.SIGTERM)
        assert canary.wait(timeout=30) == 130
        wait_until(lambda: firing(stack, "LgtmSmokeCanaryNotReporting", job=rp.JOB, source="canary"),
                   "LgtmSmokeCanaryNotReporting fires once the loop stops", log, stack)
    finally:
        stack.set_faults([])
        if canary.poll() is None:
            os.killpg(canary.pid, signal.SIGKILL)
            canary.wait()
    output = log.read_text()
    assert "Traceback" not in output and "lgtm-smoke canary: stopped" in output, output[-3000:]
