"""The pure parts of the AWS suite, without moto: the Fargate table, settings precedence,
one-line errors, and the time window of the stopped-task check."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from lgtm_smoke.aws import Snapshot, discovery, ecs, fargate
from lgtm_smoke.config import UsageError

TF = {"aws_region": "ap-northeast-2", "ecs_cluster_name": "tf-cluster", "data_bucket": "tf-data", "project_name": "lgtm",
      "environment": "prod", "storage_prefixes": {"mimir": "mimir"}, "memcached_config": {"num_cache_nodes": 2}}


def settings(opts=None, tf=TF, alb="127.0.0.1"):
    opts = opts or {}
    return discovery.resolve(lambda k: opts.get(k), tf, alb, "t1")


@pytest.mark.parametrize("cpu,memory,ok", [
    (256, 512, True), (256, 2048, True), (256, 768, False), (512, 1536, False), (512, 2048, True),
    (1024, 3072, True), (1024, 9216, False), (4096, 30720, True), (8192, 20480, True), (8192, 18432, False),
    (16384, 122880, True), (16384, 36864, False), (384, 1024, False), (None, 512, False)])
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


def test_errors_are_one_line():
    assert discovery.describe_error(NoCredentialsError(), "x") == discovery.NO_CREDENTIALS
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed\nmore"}}, "DescribeServices")
    assert discovery.describe_error(denied, "reading ECS") == \
        "access denied while reading ECS (AccessDeniedException: not allowed): grant the smoke role read access"
    expired = ClientError({"Error": {"Code": "ExpiredTokenException", "Message": "old"}}, "ListServices")
    assert "credentials rejected (ExpiredTokenException)" in discovery.describe_error(expired, "x")
    down = discovery.describe_error(EndpointConnectionError(endpoint_url="https://ecs.nowhere"), "listing")
    assert "\n" not in down and "https://ecs.nowhere" in down


def test_match_name_prefers_exact_then_shortest_suffix():
    assert discovery.match_name("tempo", ["lgtm-prod-tempo-otlp", "lgtm-prod-tempo"]) == "lgtm-prod-tempo"
    assert discovery.match_name("tempo-otlp", ["lgtm-prod-tempo-otlp", "lgtm-prod-tempo"]) == "lgtm-prod-tempo-otlp"
    assert discovery.match_name("mimir", ["mimir", "x-mimir"]) == "mimir"
    assert discovery.match_name("loki", ["lokix"]) is None


def test_stopped_task_outside_the_window_is_not_reported():
    """A health-check stop 2 h ago is history; 5 min ago is a restart loop."""
    s = settings({"aws_services": "tempo"})
    now = datetime(2026, 1, 16, 5, 0, tzinfo=timezone.utc)

    def snap(minutes_ago):
        task = {"taskArn": "arn:task/c/abc", "lastStatus": "STOPPED", "stoppedReason": "Task failed ELB health checks in (target-group x)",
                "stoppedAt": now - timedelta(minutes=minutes_ago), "containers": [{"name": "tempo", "exitCode": 143}]}
        sn = Snapshot()
        sn.put("ecs.services", {"tempo": {"serviceName": "tempo", "status": "ACTIVE"}})
        sn.put("ecs.tasks", {"tempo": {"running": [], "stopped": [task]}})
        return sn

    assert ecs.check_no_recent_bad_stops(snap(120), s, now=now) == []
    [finding] = ecs.check_no_recent_bad_stops(snap(5), s, now=now)
    assert "ECS service tf-cluster/tempo" in str(finding) and "tempo exit 143" in str(finding)
