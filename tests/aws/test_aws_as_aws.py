"""Scenarios moto cannot produce, served as AWS serves them (refstack/lgtm_refstack/aws/
fidelity.py: moto's own request handling, IAM enforcement included, with the response held to
botocore's output shape), each failing exactly its check with a cause a person acts on:
a rolled-back deploy, an orphaned target group, throttling, AccessDenied on one action (for
every action of the smoke role), expired credentials. And the shapes themselves: every
response the seeded account and these scenarios produce matches botocore's models."""

from __future__ import annotations

import contextlib
import re

import pytest
from lgtm_refstack.aws import fidelity, iam, shapes

from conftest import REPO, fetch_as_smoke, seeding

SMOKE = REPO / "lgtm_smoke" / "aws"
TESTS = {
    area: set(re.findall(r"^def (test_\w+)", (SMOKE / f"test_{area}.py").read_text(), re.MULTILINE))
    for area in ("ecs", "alb", "s3", "elasticache", "cloudmap")
}
ALL = set().union(*TESTS.values())
BAD_IMAGE_TAG = "2.17.0-20260116-0300bad"


@contextlib.contextmanager
def rolled_back_deploy(stack, svc="mimir"):
    """Seed 2026-01-16 03:00 replayed end to end: a new task definition with an image that
    does not exist → its tasks fail to start (CannotPullContainerError) → the circuit
    breaker rolls back. What AWS then shows: DescribeServices is clean again (one PRIMARY
    COMPLETED deployment on the previous definition); only the service deployment says
    ROLLBACK_SUCCESSFUL, and the stopped task says why."""
    from moto.ecs.models import ecs_backends

    bad_image = seeding.image(stack.tf, stack.region, svc).rsplit(":", 1)[0] + f":{BAD_IMAGE_TAG}"
    bad = seeding.register_task_definition(stack, svc, stack.tf["service_config"][svc], image_uri=bad_image)
    service_arn = stack.service_arns[svc]
    seeding.record_deployment(
        stack,
        svc,
        bad,
        status="ROLLBACK_SUCCESSFUL",
        image_uri=bad_image,
        reason="ECS deployment circuit breaker: tasks failed to start.",
    )
    task = seeding.run_task(stack, svc, taskdef=bad)
    ecs = stack.client("ecs")
    ecs.stop_task(
        cluster=stack.cluster,
        task=task,
        reason=(
            "CannotPullContainerError: pull image manifest has been retried 7 time(s): "
            f"failed to resolve ref {bad_image}: "
            f"{bad_image}: not found"
        ),
    )
    moto_task = ecs_backends[seeding.ACCOUNT][stack.region].tasks[stack.cluster][task]
    moto_task.stop_code = "TaskFailedToStart"
    try:
        yield
    finally:
        ecs_backends[seeding.ACCOUNT][stack.region].tasks[stack.cluster].pop(task)
        fidelity.DEPLOYMENTS.undo(service_arn)
        ecs.deregister_task_definition(taskDefinition=bad)


@contextlib.contextmanager
def orphaned_target_group(stack):
    """The tempo-otlp rule is gone: AWS reports the group's targets `unused` /
    `Target.NotInUse` (moto: still healthy), and DescribeTargetGroups(LoadBalancerArn) would
    no longer list the group at all."""
    prio = next(r["priority"] for r in seeding.alb_rules(stack.routes) if r.get("target_group") == "tempo-otlp")
    rule = seeding.rule_for(stack, prio)
    stack.client("elbv2").delete_rule(RuleArn=stack.rule_arns[prio])
    try:
        with seeding.target_health(
            stack,
            "tempo-otlp",
            state="unused",
            reason="Target.NotInUse",
            description="Target group is not configured to receive traffic from the load balancer",
        ):
            yield
    finally:
        stack.rule_arns[prio] = seeding.create_rule(stack, rule)


SCENARIOS = {
    "rolled-back deploy (bad image)": (
        rolled_back_deploy,
        {"test_last_deployment_not_rolled_back", "test_no_recent_health_check_or_essential_exit_stops"},
        [
            "ECS service lgtm-prod-cluster/mimir",
            "last deployment rolled back (ROLLBACK_SUCCESSFUL)",
            "lgtm-prod-mimir:",
            f"lgtm-mimir:{BAD_IMAGE_TAG}",
            "TaskFailedToStart",
            "CannotPullContainerError",
            "running lgtm-prod-mimir:1 again",
        ],
    ),
    "orphaned target group": (
        orphaned_target_group,
        {"test_targets_healthy", "test_listener_rules_equal_route_table"},
        ["target group lgtm-prod-tempo-otlp", "orphaned", "Target.NotInUse"],
    ),
    "ECS listing denied": (
        lambda s: seeding.smoke_policy_without(s, "ecs:ListServices"),
        TESTS["ecs"]
        | {
            "test_deregistration_delay_within_stop_timeout",
            "test_mimir_and_loki_carry_memcached_endpoint",
            "test_services_registered_with_healthy_instances",
        },
        ["access denied: role lgtm-prod-smoke may not call ecs:ListServices", "infra/terraform/modules/iam/smoke.tf"],
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_scenario_fails_exactly_its_checks(scenario, stack, run_aws):
    apply, failing, words = SCENARIOS[scenario]
    with apply(stack):
        run = run_aws()
    assert set(run.failed) == failing, f"{scenario}: failed {sorted(run.failed)}\n{run.output[-3000:]}"
    first = next(iter(sorted(failing)))
    message = run.failed[first] if len(failing) == 1 else "\n".join(run.failed.values())
    for word in words:
        assert word in message, f"{scenario}: {word!r} not in {message!r}"
    for name in failing:  # the cause is the first line, never a traceback
        assert run.failed[name].strip() and "Traceback" not in run.failed[name]


def test_throttled_for_good_is_red_within_the_deadline_saying_throttled(stack, run_aws):
    """DescribeTargetHealth throttled on every try: the target-health check fails saying
    throttled; adaptive retries slow the whole ELBv2 client, so ALB reads still waiting at
    the fetch deadline fail too, each saying so; nothing else fails, nothing waits unbounded."""
    with fidelity.serve_error("elbv2", "DescribeTargetHealth", "Throttling", "Rate exceeded") as err:
        run = run_aws()
    assert err.served >= 4 and "test_targets_healthy" in run.failed, run.output[-3000:]
    assert set(run.failed) <= TESTS["alb"], sorted(run.failed)
    assert run.failed["test_targets_healthy"].startswith("[aws.alb.targets_healthy] target group lgtm-prod-")
    for name, text in run.failed.items():
        assert "throttled" in text.splitlines()[0], (name, text)


def test_throttling_that_passes_is_retried_to_green(stack, run_aws):
    """Two throttled answers in a row: adaptive retries get through and every check passes."""
    with fidelity.serve_error("elbv2", "DescribeTargetHealth", "Throttling", "Rate exceeded", times=2) as err:
        run = run_aws()
    assert err.served == 2
    assert run.returncode == 0 and run.passed == ALL, run.output[-3000:]


@pytest.mark.parametrize(
    "code,message",
    [
        ("ExpiredToken", "The security token included in the request is expired"),
        ("RequestExpired", "Request has expired."),
    ],
)
def test_expired_credentials_block_every_check_in_one_line(code, message, stack, run_aws):
    with fidelity.serve_error("sts", "GetCallerIdentity", code, message, status=403):
        run = run_aws()
    assert set(run.failed) == ALL, run.output[-2000:]
    for text in run.failed.values():
        assert (
            f"blocked by aws.credentials: AWS credentials expired ({code}): get fresh ones (re-run `aws sso login`, "
            "or let the workflow re-assume the smoke role through OIDC) and run again"
        ) in text.strip().splitlines()[0]


# --- least privilege: each action of the smoke role is needed by exactly these checks --------
ECS_ALL = TESTS["ecs"] | {
    "test_deregistration_delay_within_stop_timeout",
    "test_mimir_and_loki_carry_memcached_endpoint",
    "test_services_registered_with_healthy_instances",
}
TASKDEF_READERS = {
    "test_task_sizes_are_valid_fargate_combinations",
    "test_running_image_is_expected",
    "test_deregistration_delay_within_stop_timeout",
    "test_mimir_and_loki_carry_memcached_endpoint",
}
NEEDED_BY = {
    "ecs:DescribeClusters": ECS_ALL,
    "ecs:ListServices": ECS_ALL,
    "ecs:DescribeServices": ECS_ALL,
    "ecs:DescribeTaskDefinition": TASKDEF_READERS,
    "ecs:ListTasks": {
        "test_tasks_run_current_task_definition",
        "test_no_recent_health_check_or_essential_exit_stops",
        "test_running_image_is_expected",
    },
    "ecs:DescribeTasks": {
        "test_tasks_run_current_task_definition",
        "test_no_recent_health_check_or_essential_exit_stops",
        "test_running_image_is_expected",
    },
    "ecs:ListServiceDeployments": {"test_last_deployment_not_rolled_back"},
    "ecs:DescribeServiceDeployments": {"test_last_deployment_not_rolled_back"},
    "ecs:DescribeServiceRevisions": {"test_last_deployment_not_rolled_back"},
    "elasticloadbalancing:DescribeLoadBalancers": TESTS["alb"],
    "elasticloadbalancing:DescribeListeners": {
        "test_listener_present",
        "test_listener_rules_equal_route_table",
        "test_tempo_rewrite_in_place",
    },
    "elasticloadbalancing:DescribeRules": {"test_listener_rules_equal_route_table", "test_tempo_rewrite_in_place"},
    "elasticloadbalancing:DescribeTargetGroups": {
        "test_targets_healthy",
        "test_health_check_path_and_port",
        "test_deregistration_delay_within_stop_timeout",
    },
    "elasticloadbalancing:DescribeTargetHealth": {"test_targets_healthy"},
    "elasticloadbalancing:DescribeTargetGroupAttributes": {"test_deregistration_delay_within_stop_timeout"},
    "elasticache:DescribeCacheClusters": TESTS["elasticache"],
    "servicediscovery:GetService": TESTS["cloudmap"],
    "servicediscovery:GetNamespace": TESTS["cloudmap"],
    "servicediscovery:ListInstances": TESTS["cloudmap"],
    "servicediscovery:GetInstancesHealthStatus": TESTS["cloudmap"],
    "s3:ListBucket": {"test_top_level_layout", "test_each_backend_has_tenant_folder", "test_no_tenantless_folders"},
    "s3:GetBucketPublicAccessBlock": {"test_public_access_block_on"},
    "s3:GetEncryptionConfiguration": {"test_default_encryption_on"},
    "s3:GetBucketVersioning": {"test_versioning_as_intended"},
}
NOT_THE_SUITES = {  # in the smoke role for a caller other than the checks themselves
    "secretsmanager:GetSecretValue": "the gate's own step fetching the Grafana password and edge secret",
    "logs:GetLogEvents": "the evidence beside a failure (test_aws_evidence.py proves it)",
    "cloudwatch:PutMetricData": "--publish-cloudwatch, the verdict per service (test_publish_cloudwatch.py proves it)",
}


def test_every_action_of_the_smoke_role_is_accounted_for():
    """smoke.tf allows exactly the actions some check needs (NEEDED_BY) or a named other
    caller needs: a new action there, or a check calling something new, fails here first."""
    assert sorted(iam.actions(REPO)) == sorted(set(NEEDED_BY) | set(NOT_THE_SUITES))


@pytest.mark.parametrize("action", sorted(NEEDED_BY))
def test_one_action_removed_fails_exactly_its_checks(action, stack, run_aws):
    with seeding.smoke_policy_without(stack, action):
        run = run_aws()
    assert set(run.failed) == NEEDED_BY[action], f"{action}: failed {sorted(run.failed)}\n{run.output[-3000:]}"
    lines = "\n".join(run.failed.values())
    assert f"role lgtm-prod-smoke may not call {action}" in lines, lines[:2000]


# --- the shapes ---------------------------------------------------------------------------
def fetch_validated(account, stack, scenario=None) -> list[str]:
    """Run the suite's own fetch in this process against the account, holding every raw
    response body to botocore's output shape; returns the violations."""
    found: list[str] = []
    with scenario(stack) if scenario else contextlib.nullcontext():
        snap, _ = fetch_as_smoke(account, stack, shapes.recorder(found))
    assert not snap.blocked and snap.calls > 20, (snap.blocked, snap.errors)
    return found


@pytest.mark.parametrize(
    "scenario", [None, rolled_back_deploy, orphaned_target_group], ids=["healthy", "rollback", "orphaned"]
)
def test_every_response_matches_botocores_model(scenario, account, stack):
    assert fetch_validated(account, stack, scenario) == []


def test_a_member_the_model_lacks_is_caught():
    """The guard itself: a served deployment or a seeded XML answer with an invented member
    fails validation (where it is served, the account answers 500 instead of sending it)."""
    import botocore.session

    with pytest.raises(AssertionError, match=r"rolledBackTo: not in the model"):
        fidelity._valid("ecs", "DescribeServiceDeployments", {"serviceDeployments": [{"rolledBackTo": "previous"}]})
    model = botocore.session.get_session().get_service_model("elbv2").operation_model("DescribeTargetHealth")
    xml = (
        b"<DescribeTargetHealthResponse><DescribeTargetHealthResult><TargetHealthDescriptions><member>"
        b"<Target><Id>10.0.0.1</Id></Target><TargetHealth><State>healthy</State><Score>9</Score></TargetHealth>"
        b"</member></TargetHealthDescriptions></DescribeTargetHealthResult></DescribeTargetHealthResponse>"
    )
    [problem] = shapes.problems(model, xml)
    assert problem.startswith(
        "DescribeTargetHealthOutput.TargetHealthDescriptions[0].TargetHealth.Score: not in the model"
    )
    assert shapes.problems(model, xml.replace(b"<Score>9</Score>", b"")) == []
