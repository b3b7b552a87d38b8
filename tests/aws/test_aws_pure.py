"""The pure parts of the AWS suite, without moto: the Fargate table and grace rule, settings
precedence, one-line errors (AccessDenied naming action and role, expired credentials,
throttling), "botocore too old", and the time window of the stopped-task check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    TokenRetrievalError,
)

from lgtm_smoke.aws import Snapshot, ecs, errors, fargate
from lgtm_smoke.aws import settings as discovery
from lgtm_smoke.settings import UsageError

TF = {
    "aws_region": "ap-northeast-2",
    "ecs_cluster_name": "tf-cluster",
    "data_bucket": "tf-data",
    "project_name": "lgtm",
    "environment": "prod",
    "storage_prefixes": {"mimir": "mimir"},
    "memcached_config": {"num_cache_nodes": 2},
}


def settings(opts=None, tf=TF, alb="127.0.0.1"):
    opts = opts or {}
    return discovery.resolve(lambda k: opts.get(k), tf, alb, "t1")


@pytest.mark.parametrize(
    "cpu,memory,ok",
    [
        (256, 512, True),
        (256, 2048, True),
        (256, 768, False),
        (512, 1536, False),
        (512, 2048, True),
        (1024, 3072, True),
        (1024, 9216, False),
        (4096, 30720, True),
        (8192, 20480, True),
        (8192, 18432, False),
        (16384, 122880, True),
        (16384, 36864, False),
        (384, 1024, False),
        (None, 512, False),
    ],
)
def test_fargate_table(cpu, memory, ok):
    """The seed's rejected pairs (512/1536, 256/768) are invalid; the table covers 256…16384."""
    assert (fargate.problem(cpu, memory) is None) == ok
    assert sorted(fargate.table()) == [256, 512, 1024, 2048, 4096, 8192, 16384]


def test_settings_option_beats_env_beats_tfvars(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("LGTM_ECS_CLUSTER", "env-cluster")
    s = settings({"aws_region": "eu-west-1"})
    assert (s.region, s.cluster, s.data_bucket) == ("eu-west-1", "env-cluster", "tf-data")
    assert s.alb_name == "lgtm-prod-alb" and s.memcached_nodes == 2 and s.storage_prefixes == {"mimir": "mimir"}
    assert s.services == discovery.DEFAULT_SERVICES and s.stopped_window_minutes == 30
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    assert settings().region == "us-east-2"
    assert "--cloudmap-namespace" in settings().hints["cloudmap_namespace"]


def test_alb_found_by_dns_name_when_it_is_one():
    s = settings(alb="lgtm-prod-alb-1.ap-northeast-2.elb.amazonaws.com")
    assert s.alb_name is None  # discovered by DNS name, not by the tfvars-derived name
    assert settings({"aws_alb_name": "x"}, alb="a.elb.amazonaws.com").alb_name == "x"


def test_image_expectations_per_service_or_all():
    s = settings({"aws_expect_image_tag": "mimir=2.17.0-1,1.0"})
    assert s.expected_image("mimir") == ("2.17.0-1", None) and s.expected_image("loki") == ("1.0", None)
    with pytest.raises(UsageError):
        settings({"aws_expect_image_tag": "mimir="})


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "99999"])
def test_bad_stopped_window_is_a_usage_error(raw):
    with pytest.raises(UsageError, match="--stopped-window-minutes"):
        settings({"aws_stopped_window": raw})


def client_error(code, message, op="DescribeServices", service="ecs", attempts=0):
    e = ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"RetryAttempts": attempts}}, op)
    e.service_name = service  # what botocore's client sets on the errors it raises
    return e


def test_errors_are_one_line():
    assert errors.describe_error(NoCredentialsError(), "x") == errors.NO_CREDENTIALS
    down = errors.describe_error(EndpointConnectionError(endpoint_url="https://ecs.nowhere"), "listing")
    assert "\n" not in down and "https://ecs.nowhere" in down


def test_access_denied_names_the_action_and_the_role():
    """From AWS's own message when it has one; else from the operation (S3 maps to its IAM action)."""
    aws = client_error(
        "AccessDeniedException",
        "User: arn:aws:sts::1:assumed-role/lgtm-prod-smoke/gh-42 is not authorized "
        "to perform: ecs:ListServices on resource: * because no identity-based policy allows it\nmore",
    )
    assert errors.describe_error(aws, "listing ECS services") == (
        "access denied: role lgtm-prod-smoke may not call ecs:ListServices (AccessDeniedException) while listing ECS "
        "services: add ecs:ListServices to the smoke role (infra/terraform/modules/iam/smoke.tf)"
    )
    s3 = client_error("AccessDenied", "Access Denied", op="GetBucketEncryption", service="s3")
    line = errors.describe_error(s3, "reading encryption", principal="arn:aws:sts::1:assumed-role/lgtm-prod-smoke/x")
    assert "role lgtm-prod-smoke may not call s3:GetEncryptionConfiguration" in line
    elb = client_error("AccessDenied", "denied", op="DescribeTargetHealth", service="elbv2")
    assert "elasticloadbalancing:DescribeTargetHealth" in errors.describe_error(elb, "x")


@pytest.mark.parametrize(
    "exc",
    [
        client_error("RequestExpired", "Request has expired"),
        client_error("ExpiredTokenException", "The security token included in the request is expired"),
        client_error("InvalidToken", "The provided token is malformed or otherwise invalid"),
        TokenRetrievalError(provider="sso", error_msg="Token has expired and refresh failed"),
    ],
)
def test_expired_credentials_say_what_to_do(exc):
    line = errors.credentials_problem(exc)
    assert line.startswith("AWS credentials expired (") and "aws sso login" in line and "run again" in line
    assert errors.describe_error(exc, "x") == line


def test_throttling_says_throttled():
    line = errors.describe_error(client_error("Throttling", "Rate exceeded", attempts=5), "reading target health")
    assert line.startswith(
        "throttled by AWS while reading target health (Throttling: Rate exceeded; gave up after 6 attempts"
    )


def test_botocore_too_old_is_named_when_the_model_lacks_a_member():
    """With a model whose Rule shape has no Transforms (botocore < 1.40.54), the rewrite check
    says so instead of reporting a false "no Transforms in describe_rules"."""
    import botocore.session

    from lgtm_smoke.aws import alb

    model = botocore.session.get_session().get_service_model("elbv2")
    assert not errors.model_gap(model, "Rule", "Transforms")
    assert errors.model_gap(model, "Rule", "NotAMember") and errors.model_gap(model, "NoSuchOperation", None)
    snap = Snapshot()
    snap.put("model_gaps", {"elbv2.Rule.Transforms": errors.too_old("elbv2", "the url-rewrite check", "1.40.10")})
    with pytest.raises(alb.Missing, match=r"botocore 1.40.10 too old.*pip install 'botocore>=1.40.54'"):
        alb.find_rewrites(snap, settings())


def test_grace_rule_is_the_data_file_s():
    assert fargate.min_grace_seconds() == 60
    assert fargate.grace_problem(120) is None and fargate.grace_problem(60) is None
    assert "healthCheckGracePeriodSeconds 0" in fargate.grace_problem(0)


def test_match_name_prefers_exact_then_shortest_suffix():
    assert discovery.match_name("tempo", ["lgtm-prod-tempo-otlp", "lgtm-prod-tempo"]) == "lgtm-prod-tempo"
    assert discovery.match_name("tempo-otlp", ["lgtm-prod-tempo-otlp", "lgtm-prod-tempo"]) == "lgtm-prod-tempo-otlp"
    assert discovery.match_name("mimir", ["mimir", "x-mimir"]) == "mimir"
    assert discovery.match_name("loki", ["lokix"]) is None


def test_stopped_task_outside_the_window_is_not_reported():
    """A health-check stop 2 h ago is history; 5 min ago is a restart loop."""
    s = settings({"aws_services": "tempo"})
    now = datetime(2026, 1, 16, 5, 0, tzinfo=UTC)

    def snap(minutes_ago):
        task = {
            "taskArn": "arn:task/c/abc",
            "lastStatus": "STOPPED",
            "stoppedReason": "Task failed ELB health checks in (target-group x)",
            "stoppedAt": now - timedelta(minutes=minutes_ago),
            "containers": [{"name": "tempo", "exitCode": 143}],
        }
        sn = Snapshot()
        sn.put("ecs.services", {"tempo": {"serviceName": "tempo", "status": "ACTIVE"}})
        sn.put("ecs.tasks", {"tempo": {"running": [], "stopped": [task]}})
        return sn

    assert ecs.find_no_recent_bad_stops(snap(120), s, now=now) == []
    [finding] = ecs.find_no_recent_bad_stops(snap(5), s, now=now)
    assert "ECS service tf-cluster/tempo" in str(finding) and "tempo exit 143" in str(finding)
