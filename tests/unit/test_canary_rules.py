"""The canary's alert rules as shipped (infra/images/mimir/rules/): valid for promtool, every
alert paged or ticketed with a runbook entry that exists, and the duration scaler the live
test uses understands every duration in them. (What they fire on: tests/integration/test_canary_alerts.py.)"""
from __future__ import annotations

import re

import pytest
import yaml
from alert_rules import REPO, RULES, promtool, scaled

RUNBOOK = REPO / "docs/runbook.md"
RUNBOOK_URL = "https://github.com/JSJ2337/LGTM_stack/blob/main/docs/runbook.md#"


def alerts(text: str) -> list[dict]:
    return [r for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r]


def anchors() -> set[str]:
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
            for h in re.findall(r"(?m)^#+ (.+)$", RUNBOOK.read_text())}


def test_promtool_check_rules_passes():
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0 and "SUCCESS: 5 rules found" in result.stdout, result.stdout + result.stderr


def test_promtool_check_rules_catches_a_broken_expression(tmp_path):
    broken = tmp_path / RULES.name
    broken.write_text(RULES.read_text().replace("absent_over_time(", "absent_over_time((", 1))
    result = promtool("check", "rules", broken)
    assert result.returncode != 0 and "LgtmSmokeCanaryNotReporting" not in result.stdout, result.stdout
    assert "parse error" in result.stdout + result.stderr, result.stdout + result.stderr


def test_every_alert_has_a_severity_and_an_existing_runbook_entry():
    found = anchors()
    for rule in alerts(RULES.read_text()):
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(RUNBOOK_URL) and url.removeprefix(RUNBOOK_URL) in found, (rule["alert"], url)


def test_a_missing_runbook_entry_is_caught():
    assert "canary-backend-failing" in anchors()
    assert "canary-backend-failng" not in anchors()


def test_scaling_changes_every_duration_and_nothing_else():
    text = RULES.read_text()
    out = scaled(text, 1 / 30)
    assert "[22000ms]" in out and "[30000ms]" in out and "interval: 2000ms" in out  # 11m, 15m, 1m
    duration = r"(\[|\bfor: |\binterval: )\d+(?:ms|[smhd])(?=[\]\s])"
    assert re.sub(duration, r"\1D", out) == re.sub(duration, r"\1D", text)


def test_scaling_refuses_a_duration_it_cannot_read():
    with pytest.raises(AssertionError, match="one unit per duration"):
        scaled("expr: rate(x[1h30m])", 0.5)
