"""--publish-cloudwatch as the smoke role, against the IAM-enforcing account: the role may put
the verdict into its own namespace only (smoke.tf: cloudwatch:PutMetricData with a
cloudwatch:namespace condition), which the account's fidelity room evaluates as AWS documents
(moto checks `monitoring:*` and ignores the condition); a run without AWS credentials
publishes nothing; the series read back are exactly the ones the deploy alarms watch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from lgtm_refstack.aws import fidelity

from conftest import seeding
from lgtm_smoke import canary
from lgtm_smoke.aws.errors import describe_error
from lgtm_smoke.verdict import cloudwatch

NAMESPACE = "LGTM/Smoke"  # common.tfvars smoke_metric_namespace


@pytest.fixture(autouse=True)
def forget_what_was_published(stack):
    yield
    seeding.forget_smoke_metrics(stack)  # later deployments in this account must not see it


def smoke_cloudwatch(account, stack):
    creds = account.smoke_env("lgtm-smoke-publish")
    return boto3.session.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        region_name=stack.region,
    ).client("cloudwatch", endpoint_url=stack.endpoint)


def read_back(stack, service: str, source: str, namespace: str = NAMESPACE) -> list[float]:
    """Maximum per minute of one series, read as the seeding admin (the smoke role cannot read)."""
    now = datetime.now(UTC)
    answer = stack.client("cloudwatch").get_metric_statistics(
        Namespace=namespace, MetricName=cloudwatch.METRIC, Dimensions=cloudwatch.dimensions(service, source),
        StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1), Period=60, Statistics=["Maximum"])
    return [p["Maximum"] for p in answer["Datapoints"]]


def test_the_smoke_role_publishes_into_its_namespace(account, stack):
    line = cloudwatch.publish(smoke_cloudwatch(account, stack), {"loki": 2, "mimir": 0}, NAMESPACE, "deploy",
                              describe_error)
    assert line == "CloudWatch: published LGTM/Smoke/FailedChecks {Source=deploy} loki=2, mimir=0"
    assert 2.0 in read_back(stack, "loki", "deploy") and 0.0 in read_back(stack, "mimir", "deploy")
    assert read_back(stack, "loki", "canary") == []  # the deploy alarm's series and the canary's are apart


def test_the_canarys_verdict_never_lands_on_the_deploy_alarms_series(account, stack):
    """The canary's run publishes under the Source its command passes (lgtm_smoke/canary.py), as
    the smoke role: a red canary run leaves the deploy alarms' series (Source=deploy) untouched."""
    command = canary.pytest_command([])
    source = command[command.index("--publish-source") + 1]
    cloudwatch.publish(smoke_cloudwatch(account, stack), {"loki": 3}, NAMESPACE, source, describe_error)
    assert 3.0 in read_back(stack, "loki", source)
    assert read_back(stack, "loki", "deploy") == []


@pytest.mark.parametrize("namespace", ["Other/NS", "AWS/ECS", "LGTM/Smoke2"])
def test_the_smoke_role_may_not_put_into_another_namespace(account, stack, namespace):
    with pytest.raises(ClientError) as denied:
        smoke_cloudwatch(account, stack).put_metric_data(
            Namespace=namespace, MetricData=cloudwatch.metric_data({"loki": 1}, "deploy"))
    assert "AccessDenied" in denied.value.response["Error"]["Code"]
    line = describe_error(denied.value, "publishing")
    assert "role lgtm-prod-smoke may not call cloudwatch:PutMetricData" in line, line


def test_without_the_statement_the_put_is_denied_naming_the_action(account, stack):
    with seeding.smoke_policy_without(stack, "cloudwatch:PutMetricData"):
        line = cloudwatch.publish(smoke_cloudwatch(account, stack), {"loki": 1}, NAMESPACE, "deploy", describe_error)
    assert line.startswith("WARNING: --publish-cloudwatch: access denied: role lgtm-prod-smoke may not call "
                           "cloudwatch:PutMetricData"), line


# --- the fidelity room's evaluation, as AWS documents it -------------------------------------------
ALLOW_OURS = {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
              "Condition": {"StringEquals": {"cloudwatch:namespace": "LGTM/Smoke"}}}


@pytest.mark.parametrize(("statements", "namespace", "allowed"), [
    ([ALLOW_OURS], "LGTM/Smoke", True),
    ([ALLOW_OURS], "Other/NS", False),
    ([ALLOW_OURS], None, False),  # no Namespace in the request: the key is absent, StringEquals fails
    ([{**ALLOW_OURS, "Action": "cloudwatch:*"}], "LGTM/Smoke", True),
    ([{**ALLOW_OURS, "Action": "monitoring:PutMetricData"}], "LGTM/Smoke", False),  # moto's name is not AWS's
    ([{"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "cloudwatch:PutMetricData", "Resource": "*",
       "Condition": {"StringEquals": {"cloudwatch:namespace": "Other/NS"}}}], "LGTM/Smoke", True),
    ([{"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "cloudwatch:PutMetricData", "Resource": "*",
       "Condition": {"StringEquals": {"cloudwatch:namespace": "Other/NS"}}}], "Other/NS", False),
    ([{**ALLOW_OURS, "Condition": {"StringLike": {"cloudwatch:namespace": "LGTM/*"}}}], "LGTM/Canary", True),
])
def test_cloudwatch_iam_is_decided_as_aws_documents(statements, namespace, allowed):
    context = {} if namespace is None else {"cloudwatch:namespace": namespace}
    policy = {"Version": "2012-10-17", "Statement": statements}
    assert fidelity.cloudwatch_decision([policy], "cloudwatch:PutMetricData", context) is allowed


def test_an_operator_the_room_does_not_serve_fails_loudly():
    policy = {"Statement": [{**ALLOW_OURS, "Condition": {"ForAnyValue:StringEquals": {"cloudwatch:namespace": "x"}}}]}
    with pytest.raises(NotImplementedError, match="ForAnyValue:StringEquals"):
        fidelity.cloudwatch_decision([policy], "cloudwatch:PutMetricData", {"cloudwatch:namespace": "x"})


# --- the suite's own run: what it says and what it publishes ---------------------------------------
def test_a_run_without_aws_credentials_publishes_nothing_and_says_so(run_aws):
    run = run_aws("--publish-cloudwatch", credentials=False)
    assert "WARNING: --publish-cloudwatch: no AWS credentials" in run.output, run.output[-2000:]
    assert "nothing published (the verdict stands)" in run.output


def test_an_aws_only_run_checks_no_service_and_names_infra_failures(run_aws, stack):
    with seeding.smoke_policy_without(stack, "s3:GetBucketVersioning"):
        run = run_aws("--publish-cloudwatch")
    assert "loki: not checked (no check of it selected): nothing published" in run.output, run.output[-3000:]
    assert "infra: not rolled back, revert the change: test_versioning_as_intended" in run.output, run.output[-3000:]
    assert "CloudWatch: nothing published (no service was checked)" in run.output
