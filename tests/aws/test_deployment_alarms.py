"""The reference account serves ECS deployment alarms as AWS documents them
(refstack/lgtm_refstack/aws/deployment_alarms.py; moto evaluates no alarm and makes no new
deployment): seeded as modules/ecs leaves each service (its smoke alarm named in its
deployment configuration, rollback on), a deployment IN_PROGRESS whose alarm goes to ALARM
fails and the service returns to the previous task definition, with its events and its service
deployment ROLLBACK_SUCCESSFUL; a green verdict, missing data or the canary's series roll
nothing back. Every service-deployment answer is held to botocore's model (fidelity._valid)."""

from __future__ import annotations

import boto3
import pytest
from lgtm_refstack.aws import deployment_alarms

from conftest import seeding
from lgtm_smoke.verdict import cloudwatch

SVC = "loki"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(deployment_alarms.ALARMS, "clock", c)
    return c


def deploying(stack, svc=SVC):
    """A new task definition for `svc` rolled out by UpdateService; afterwards the account is as
    the seed left it (seed.deploying)."""
    return seeding.deploying(stack, svc, "2.0.0-next")


def publish_as_smoke(account, stack, failed: dict, source="deploy"):
    creds = account.smoke_env("lgtm-smoke-rollback")
    client = boto3.session.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"], aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"], region_name=stack.region,
    ).client("cloudwatch", endpoint_url=stack.endpoint)
    line = cloudwatch.publish(client, failed, stack.tf["smoke_metric_namespace"], source)
    assert line.startswith("CloudWatch: published"), line


def service(stack, svc=SVC) -> dict:
    return stack.client("ecs").describe_services(cluster=stack.cluster, services=[stack.service_names[svc]])["services"][0]


def last_service_deployment(stack, svc=SVC) -> dict:
    ecs = stack.client("ecs")
    brief = ecs.list_service_deployments(cluster=stack.cluster, service=stack.service_names[svc])["serviceDeployments"][0]
    return ecs.describe_service_deployments(serviceDeploymentArns=[brief["serviceDeploymentArn"]])["serviceDeployments"][0]


def test_every_service_names_its_smoke_alarm_with_rollback_on(stack):
    alarms = {a["AlarmName"]: a for a in stack.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    for svc in stack.service_names:
        config = service(stack, svc)["deploymentConfiguration"]["alarms"]
        assert config == {"alarmNames": [f"{stack.name}-smoke-{svc}"], "enable": True, "rollback": True}
        alarm = alarms[f"{stack.name}-smoke-{svc}"]
        assert alarm["Dimensions"] == cloudwatch.dimensions(svc, "deploy")
        assert (alarm["Namespace"], alarm["MetricName"]) == (stack.tf["smoke_metric_namespace"], cloudwatch.METRIC)
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (60, 1, "notBreaching")


def test_an_update_starts_a_deployment_in_progress(stack, clock):
    before = service(stack)["taskDefinition"]
    with deploying(stack) as new:
        s = service(stack)
        assert s["taskDefinition"] == new
        assert [(d["status"], d["rolloutState"], d["taskDefinition"]) for d in s["deployments"]] == [
            ("PRIMARY", "IN_PROGRESS", new), ("ACTIVE", "COMPLETED", before)]
        sd = last_service_deployment(stack)
        assert sd["status"] == "IN_PROGRESS" and sd["alarms"] == {"status": "MONITORING",
                                                                 "alarmNames": [f"{stack.name}-smoke-{SVC}"]}


def test_a_red_verdict_during_the_deployment_rolls_the_service_back(account, stack, clock):
    before = service(stack)["taskDefinition"]
    previous_revision = last_service_deployment(stack)["targetServiceRevision"]["arn"]
    with deploying(stack) as new:
        publish_as_smoke(account, stack, {SVC: 2, "mimir": 0})
        clock.now += 5  # well inside the bake (60 s × 1)
        s = service(stack)
        assert s["taskDefinition"] == before, "back on the previous task definition"
        assert [(d["status"], d["rolloutState"]) for d in s["deployments"]] == [("PRIMARY", "IN_PROGRESS")]
        assert s["deployments"][0]["taskDefinition"] == before
        events = [e["message"] for e in s["events"][:3]]
        assert any("deployment failed: alarm(s) lgtm-prod-smoke-loki in ALARM" in e for e in events), events
        assert any("rolling back to deployment" in e for e in events), events
        alarm = stack.client("cloudwatch").describe_alarms(AlarmNames=[f"{stack.name}-smoke-{SVC}"])["MetricAlarms"][0]
        assert alarm["StateValue"] == "ALARM"
        sd = last_service_deployment(stack)
        assert sd["status"] == "ROLLBACK_IN_PROGRESS" and sd["targetServiceRevision"]["arn"] != previous_revision
        assert sd["alarms"]["status"] == "TRIGGERED" and sd["alarms"]["triggeredAlarmNames"] == [f"{stack.name}-smoke-{SVC}"]
        assert sd["rollback"]["serviceRevisionArn"] == previous_revision
        clock.now += deployment_alarms.ROLLBACK_SETTLE_S
        assert last_service_deployment(stack)["status"] == "ROLLBACK_SUCCESSFUL"
        s = service(stack)
        assert [(d["rolloutState"], d["taskDefinition"]) for d in s["deployments"]] == [("COMPLETED", before)]
        assert new != before
        other = service(stack, "mimir")
        assert [d["rolloutState"] for d in other["deployments"]] == ["COMPLETED"], "mimir was not deploying"


@pytest.mark.parametrize("published", [
    {SVC: 0},  # a green verdict
    {},  # the gate could not check loki: missing data
])
def test_a_green_or_missing_verdict_completes_after_the_bake(account, stack, clock, published):
    with deploying(stack) as new:
        if published:
            publish_as_smoke(account, stack, published)
        clock.now += 30
        assert service(stack)["deployments"][0]["rolloutState"] == "IN_PROGRESS", "still baking"
        clock.now += 30
        s = service(stack)
        assert [(d["status"], d["rolloutState"], d["taskDefinition"]) for d in s["deployments"]] == [
            ("PRIMARY", "COMPLETED", new)]
        sd = last_service_deployment(stack)
        assert sd["status"] == "SUCCESSFUL" and sd["alarms"]["status"] == "MONITORING_COMPLETE"


def test_the_canarys_series_never_fails_a_deployment(account, stack, clock):
    with deploying(stack) as new:
        publish_as_smoke(account, stack, {SVC: 3}, source="canary")
        clock.now += 61
        assert service(stack)["deployments"][0]["taskDefinition"] == new
        assert last_service_deployment(stack)["status"] == "SUCCESSFUL"


# --- the gate's second half: how each deployment ended (lgtm_smoke/aws/rollout.py) ------------------
def smoke_ecs(account, stack):
    creds = account.smoke_env("lgtm-smoke-rollout")
    return boto3.session.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"], aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"], region_name=stack.region,
    ).client("ecs", endpoint_url=stack.endpoint)


def test_settle_names_the_rollback_its_task_definitions_and_the_alarm(account, stack, clock):
    from datetime import UTC, datetime, timedelta

    from lgtm_smoke.aws import rollout

    since = datetime.now(UTC) - timedelta(seconds=1)
    before = service(stack)["taskDefinition"].rsplit("/", 1)[-1]
    with deploying(stack) as new:
        publish_as_smoke(account, stack, {SVC: 2})

        def sleep(_):
            clock.now += 1

        endings = rollout.settle(smoke_ecs(account, stack), stack.cluster, [SVC, "mimir"], since, timeout=10, poll=0,
                                 clock=lambda: clock.now, sleep=sleep)
    assert [e.line() for e in endings] == [
        f"loki: ROLLBACK_SUCCESSFUL: rolled back from {new.rsplit('/', 1)[-1]} to {before} by ECS deployment alarm "
        f"{stack.name}-smoke-loki (ECS deployment {endings[0].reason.split()[2]} failed: alarm(s) in ALARM: "
        f"{stack.name}-smoke-loki.)",
        "mimir: no deployment since the deploy started",
    ]
    assert not endings[0].ok and endings[1].ok
    assert "❌ the deploy did not go through" in rollout.markdown(endings)


def test_settle_reports_a_deployment_still_going_at_the_deadline(account, stack, clock):
    from datetime import UTC, datetime, timedelta

    from lgtm_smoke.aws import rollout

    since = datetime.now(UTC) - timedelta(seconds=1)
    with deploying(stack) as new:
        endings = rollout.settle(smoke_ecs(account, stack), stack.cluster, [SVC], since, timeout=0, poll=0)
    assert [e.line() for e in endings] == [f"loki: still IN_PROGRESS at the deadline ({new.rsplit('/', 1)[-1]})"]


def test_settle_says_successful_after_a_green_bake(account, stack, clock):
    from datetime import UTC, datetime, timedelta

    from lgtm_smoke.aws import rollout

    since = datetime.now(UTC) - timedelta(seconds=1)
    with deploying(stack) as new:
        publish_as_smoke(account, stack, {SVC: 0})
        clock.now += 61
        endings = rollout.settle(smoke_ecs(account, stack), stack.cluster, [SVC], since, timeout=0, poll=0)
    assert [e.line() for e in endings] == [f"loki: SUCCESSFUL, now on {new.rsplit('/', 1)[-1]}"] and endings[0].ok


@pytest.mark.parametrize(("argv", "says"), [
    (["--cluster", "c", "--services", "loki", "--since", "yesterday"], "--since 'yesterday' is not epoch seconds"),
    (["--services", "loki", "--since", "1"], "the following arguments are required: --cluster"),
])
def test_rollout_bad_input_is_one_line_and_exit_4(argv, says, capsys):
    from lgtm_smoke.aws import rollout

    assert rollout.main(argv) == 4
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
