"""The verdict per ECS service (lgtm_smoke/verdict/services.py) and its CloudWatch datapoints
(verdict/cloudwatch.py): every shipped check belongs to exactly the service its data says,
infra failures to none, and a service the run could not check publishes nothing."""
from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lgtm_smoke import settings as st
from lgtm_smoke.outcome import Check
from lgtm_smoke.plugin import SUITE
from lgtm_smoke.verdict import cloudwatch, services
from lgtm_smoke.verdict.report import CheckRecord


def shipped_checks() -> dict[str, Check]:
    """Every Check a shipped test names (@pytest.mark.check), read from the test modules."""
    found: dict[str, Check] = {}
    for path in sorted(p for folder in SUITE for p in Path(folder).rglob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"shipped_{path.parent.name}_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for fn in vars(module).values():
            for mark in getattr(fn, "pytestmark", []):
                if mark.name == "check":
                    check = mark.args[0]
                    found[check.id] = check
    return found


CHECKS = shipped_checks()


def test_the_suite_names_checks_of_every_service_and_of_infra():
    owners = {services.attribute(c).service for c in CHECKS.values()}
    assert owners == {*services.SERVICES, None}, owners


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_every_check_belongs_to_the_service_its_data_names(check_id):
    check = CHECKS[check_id]
    got = services.attribute(check)
    area = check_id.split(".")[0]
    if area in ("alb", "aws"):  # ALB rules, edge auth, S3, IAM, ElastiCache, Cloud Map, ECS's own API
        assert got == services.Attribution(None), f"{check_id} is shared infrastructure"
    elif "grafana.login" in check.needs and area != "grafana":  # the backend's datasource / proxy read in Grafana
        assert got == services.Attribution("grafana", frozenset({area}))
    elif area == "alloy":  # Alloy's data, read back from Mimir or Loki
        assert got.service == "alloy" and got.reads and got.reads <= {"mimir", "loki"}, got
    else:
        assert got == services.Attribution(area), f"{check_id}: {got}"


def record(check_id: str, outcome: str, blocked_by: str | None = None) -> CheckRecord:
    return CheckRecord(check=f"x::{check_id}", name=f"test_{check_id}", backend=check_id.split(".")[0],
                       outcome=outcome, probe=check_id, blocked_by=blocked_by)


def run(outcomes: dict[str, str], blocked_by: str | None = None) -> services.ServiceVerdict:
    """Every shipped check passed, except those in `outcomes`."""
    recs = [record(cid, outcomes.get(cid, "passed"), blocked_by if outcomes.get(cid) == "blocked" else None)
            for cid in CHECKS]
    return services.tally(recs, CHECKS)


def test_a_healthy_run_publishes_zero_for_every_service():
    v = run({})
    assert v.failed == dict.fromkeys(services.SERVICES, 0) and not v.infra and not v.unchecked


def test_a_broken_loki_counts_against_loki_even_through_grafana():
    v = run({"loki.push_json": "failed", "loki.push_protobuf": "failed", "loki.grafana_proxy": "failed",
             "alloy.logs_in_loki": "failed"})
    assert v.failed["loki"] == 4 and v.failed["grafana"] == 0 and v.failed["alloy"] == 0


def test_a_grafana_datasource_fault_counts_against_grafana_not_the_backend():
    v = run({"loki.grafana_datasource": "failed", "loki.grafana_proxy": "failed"})
    assert v.failed["grafana"] == 2 and v.failed["loki"] == 0


def test_alloy_counts_only_when_the_backends_it_reads_are_healthy():
    assert run({"alloy.self_metrics_fresh": "failed", "alloy.logs_in_loki": "failed"}).failed["alloy"] == 2


def test_an_alb_rule_failure_is_infra_and_rolls_back_nothing():
    v = run({"alb.mimir_admin_closed": "failed", "aws.s3.versioning": "failed"})
    assert set(v.failed.values()) == {0}
    assert sorted(v.infra) == ["test_alb.mimir_admin_closed", "test_aws.s3.versioning"]
    assert services.INFRA_LINE in v.lines()[-1]


def test_a_service_whose_checks_were_all_blocked_publishes_nothing():
    blocked = {cid: "blocked" for cid, c in CHECKS.items() if services.attribute(c).service == "tempo"}
    v = run(blocked, blocked_by="target_group.tempo")
    assert "tempo" not in v.failed and v.unchecked["tempo"] == "blocked by target_group.tempo"
    assert "tempo: not checked (blocked by target_group.tempo): nothing published" in v.lines()
    assert cloudwatch.metric_data(v.failed, "deploy")[0]["Dimensions"] != cloudwatch.dimensions("tempo", "deploy")
    assert all(d["Dimensions"][0]["Value"] != "tempo" for d in cloudwatch.metric_data(v.failed, "deploy"))


def test_a_run_that_checked_nothing_publishes_nothing():
    v = services.tally([record(cid, "blocked", "alb") for cid in CHECKS], CHECKS)
    assert v.failed == {} and set(v.unchecked) == set(services.SERVICES)
    assert cloudwatch.publish(object(), v.failed, "LGTM/Smoke", "deploy") == \
        "CloudWatch: nothing published (no service was checked)"


def test_datapoints_carry_service_and_source():
    when = datetime(2026, 12, 7, tzinfo=UTC)
    data = cloudwatch.metric_data({"loki": 2, "mimir": 0}, "canary", when)
    assert data == [
        {"MetricName": "FailedChecks", "Dimensions": [{"Name": "Service", "Value": "loki"},
                                                      {"Name": "Source", "Value": "canary"}],
         "Timestamp": when, "Value": 2.0, "Unit": "Count"},
        {"MetricName": "FailedChecks", "Dimensions": [{"Name": "Service", "Value": "mimir"},
                                                      {"Name": "Source", "Value": "canary"}],
         "Timestamp": when, "Value": 0.0, "Unit": "Count"},
    ]


def test_a_failed_put_is_one_warning_line():
    class Denied:
        def put_metric_data(self, **kw):
            raise RuntimeError("AccessDenied")

    line = cloudwatch.publish(Denied(), {"loki": 1}, "LGTM/Smoke", "deploy", lambda e, what: f"{what}: {e}")
    assert line == ("WARNING: --publish-cloudwatch: publishing LGTM/Smoke/FailedChecks (cloudwatch:PutMetricData): "
                    "AccessDenied (the verdict stands)")


@pytest.mark.parametrize("bad", ["AWS/ECS", ":x", "", "a" * 256, "tab\there"])
def test_a_namespace_that_is_not_ours_is_a_usage_error(bad):
    with pytest.raises(pytest.UsageError, match="is not a namespace of ours"):
        st.parse_namespace(bad, "--cloudwatch-namespace")


def test_the_source_is_deploy_or_canary():
    assert st.parse_publish_source("canary") == "canary"
    with pytest.raises(pytest.UsageError, match="one of deploy, canary"):
        st.parse_publish_source("prod")


def test_the_deploy_alarms_watch_exactly_the_series_the_gate_publishes(repo_root):
    """infra/terraform/modules/ecs/alarms.tf and the publisher agree: metric, dimensions (Source
    deploy, never canary), namespace (common.tfvars, also the option's default), and the alarm
    settings the rollback design relies on (docs/infra.md "Rollback timing")."""
    import hcl2

    def load(path):
        with open(repo_root / path) as f:
            return hcl2.load(f, serialization_options=hcl2.SerializationOptions(
                strip_string_quotes=True, explicit_blocks=False, with_comments=False))

    alarm = load("infra/terraform/modules/ecs/alarms.tf")["resource"][0]["aws_cloudwatch_metric_alarm"]["smoke"]
    assert alarm["metric_name"] == cloudwatch.METRIC
    assert alarm["dimensions"] == {"Service": "${each.key}", "Source": "deploy"}
    assert [d["Name"] for d in cloudwatch.dimensions("loki", "deploy")] == list(alarm["dimensions"])
    assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == ("Maximum", "GreaterThanThreshold", 0)
    assert (alarm["period"], alarm["evaluation_periods"], alarm["treat_missing_data"]) == (60, 1, "notBreaching")
    tfvars = load("infra/terraform/environments/prod/common.tfvars")
    assert tfvars["smoke_metric_namespace"] == st.options()["cloudwatch_namespace"].default == cloudwatch.DEFAULT_NAMESPACE


def test_a_read_through_a_service_that_could_not_be_checked_blames_nobody():
    """loki-down: Loki's checks are blocked by its target group; Grafana's datasource health for
    Loki fails for Loki's sake. Nothing rolls back (the circuit breaker owns tasks that are down)."""
    blocked = {cid: "blocked" for cid, c in CHECKS.items() if services.attribute(c).service == "loki"}
    v = run({**blocked, "loki.grafana_datasource": "failed"}, blocked_by="target_group.loki")
    assert v.failed["grafana"] == 0 and "loki" not in v.failed
    assert v.unattributed == ["test_loki.grafana_datasource (reads loki, which this run could not check)"]
    assert "not attributed (no rollback)" in v.lines()[-1]
