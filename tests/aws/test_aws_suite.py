"""The shipped AWS suite against the seeded moto stack: a healthy stack passes every check,
fast; `--skip-aws` is the only skip; missing credentials or resources fail in one line."""

from __future__ import annotations

import re
from pathlib import Path

from lgtm_smoke.aws.errors import NO_CREDENTIALS

SMOKE = Path(__file__).resolve().parents[2] / "lgtm_smoke" / "aws"
def cause(message: str) -> str:
    """The first line of a failure without the runner's `[aws.<area>.<check>] ` prefix."""
    return re.sub(r"^\[[\w.]+\] ", "", message.strip().splitlines()[0])


AWS_TESTS = {m for p in SMOKE.glob("test_*.py") for m in re.findall(r"^def (test_\w+)", p.read_text(), re.MULTILINE)}


def test_healthy_stack_passes_every_aws_check(run_aws):
    """Seeded from common.tfvars + infra/routes.json, the stack is what the checks expect:
    if this fails, a check has a false positive (or the seed drifted from the infra data)."""
    run = run_aws()
    assert run.returncode == 0, run.output
    assert run.passed == AWS_TESTS and not run.failed and not run.skipped, run.output
    assert len(AWS_TESTS) >= 20


def test_aws_snapshot_is_fetched_once_in_the_background(run_aws):
    """The AWS state is fetched once, concurrently, from collection finish; the summary says how
    many calls it took and how long the checks waited on it. (How much it adds to a healthy run
    is measured in bench/bench.py --aws, not asserted here.)"""
    run = run_aws()
    assert run.returncode == 0, run.output
    line = re.search(r"(\d+) AWS API calls.*tests waited ([0-9.]+)s", run.output)
    assert line, run.output
    assert int(line.group(1)) >= 20


def test_skip_aws_is_the_only_skip_and_says_so(run_aws):
    run = run_aws("--skip-aws")
    assert run.returncode == 0, run.output
    assert set(run.skipped) == AWS_TESTS and not run.failed and not run.passed, run.output
    assert all("--skip-aws" in reason for reason in run.skipped.values())


def test_one_area_runs_alone(run_aws):
    """On-call can run one area: `-k test_s3` runs only the S3 checks."""
    run = run_aws("-k", "test_s3")
    s3_tests = set(re.findall(r"^def (test_\w+)", (SMOKE / "test_s3.py").read_text(), re.MULTILINE))
    assert run.returncode == 0 and run.passed == s3_tests, run.output


def test_no_credentials_blocks_every_check_in_one_line(run_aws):
    """No credentials anywhere in the chain: every aws check is blocked by aws.credentials with
    the same one line (a JUnit error, not a skip), no traceback."""
    run = run_aws(credentials=False)
    assert run.returncode == 1, run.output
    assert set(run.failed) == AWS_TESTS, run.output
    for message in run.failed.values():
        assert f"blocked by aws.credentials: {NO_CREDENTIALS}" in message.strip().splitlines()[0]
    assert "Traceback" not in run.output


def test_unknown_cluster_names_it(run_aws):
    """--cluster with a typo: the ECS checks (and the three that read its services or task
    definitions: Cloud Map through their registries) fail naming the cluster and region; S3
    and target health still run."""
    run = run_aws("--cluster", "lgtm-prod-typo")
    assert run.returncode == 1
    line = "ECS cluster lgtm-prod-typo not found in ap-northeast-2: check --cluster / --region"
    ecs_tests = set(re.findall(r"^def (test_\w+)", (SMOKE / "test_ecs.py").read_text(), re.MULTILINE))
    readers = {
        "test_deregistration_delay_within_stop_timeout",
        "test_mimir_and_loki_carry_memcached_endpoint",
        "test_services_registered_with_healthy_instances",
    }
    assert set(run.failed) == ecs_tests | readers, run.output
    assert all(cause(m).startswith(line) for m in run.failed.values()), run.failed
    assert "test_targets_healthy" in run.passed and "test_no_tenantless_folders" in run.passed


def test_wrong_region_names_what_is_missing(run_aws):
    """--region where nothing is deployed: each area says which resource is missing where."""
    run = run_aws("--region", "eu-west-1")
    assert run.returncode == 1
    text = "\n".join(run.failed.values())
    assert "ECS cluster lgtm-prod-cluster not found in eu-west-1" in text
    assert "no load balancer named lgtm-prod-alb" in text and "in eu-west-1" in text
    assert "ElastiCache cluster lgtm-prod-memcached not found in eu-west-1" in text
    assert "(the Cloud Map services are those the ECS services' registries name)" in text
    assert "Traceback" not in run.output


def test_missing_resources_each_named_in_one_line(run_aws):
    """Wrong names for the bucket, cache, namespace and ALB: each area's checks fail with one
    line naming the missing resource (the bucket: the smoke role may list only the stack's,
    as on AWS; the namespace: the one the services really register in); ECS still passes."""
    run = run_aws(
        "--data-bucket",
        "no-such-data",
        "--memcached-cluster",
        "no-such-cache",
        "--cloudmap-namespace",
        "no.such.local",
        "--alb-name",
        "no-such-alb",
    )
    first = {name: cause(m) for name, m in run.failed.items()}
    assert first["test_top_level_layout"].startswith(
        "access denied: role lgtm-prod-smoke may not call s3:ListBucket (AccessDenied) while listing s3://no-such-data/"
    )
    assert first["test_memcached_cluster_available"].startswith(
        "ElastiCache cluster no-such-cache not found in ap-northeast-2"
    )
    assert first["test_services_registered_with_healthy_instances"].startswith(
        "Cloud Map lgtm.local/grafana: in namespace lgtm.local, expected no.such.local (cloudmap_namespace)"
    )
    assert first["test_targets_healthy"] == "no load balancer named no-such-alb (from --alb-name) in ap-northeast-2"
    assert "test_running_count_equals_desired" in run.passed and "Traceback" not in run.output



def test_alb_rule_checks_read_the_listener_rules_from_aws(run_aws, stack):
    """On a real deploy there is no --listener-rules file: the checks that prove the ALB's admin
    routes closed evaluate DescribeRules of the rules listener from the run's one AWS snapshot
    (as the smoke role) and send nothing to the ALB. The seeded allow-list passes; one Tempo
    rule widened to `/tempo/*` in the account fails exactly the Tempo check, naming the source."""
    healthy = run_aws("-k", "admin_routes_closed", markexpr="smoke and alb")
    assert healthy.returncode == 0 and len(healthy.passed) == 5 and not healthy.failed, healthy.output

    elb = stack.client("elbv2")
    rules = elb.describe_rules(ListenerArn=stack.listener_arn)["Rules"]
    tempo = next(r for r in rules if any(v.startswith("/tempo/") for c in r["Conditions"]
                                         for v in c.get("PathPatternConfig", {}).get("Values", [])))
    saved = [{k: v for k, v in c.items() if k != "Values"} for c in tempo["Conditions"]]
    widened = [{**c, "PathPatternConfig": {"Values": ["/tempo/*"]}} if "PathPatternConfig" in c else c for c in saved]
    elb.modify_rule(RuleArn=tempo["RuleArn"], Conditions=widened)
    try:
        run = run_aws("-k", "admin_routes_closed", markexpr="smoke and alb")
    finally:
        elb.modify_rule(RuleArn=tempo["RuleArn"], Conditions=saved)
    assert set(run.failed) == {"test_tempo_admin_routes_closed_at_the_alb"}, run.output
    message = run.failed["test_tempo_admin_routes_closed_at_the_alb"]
    assert "tempo admin route open through the ALB" in message and "rules from DescribeRules on the port-" in message


def test_alb_rule_checks_without_credentials_share_the_aws_root_cause(run_aws):
    run = run_aws("-k", "admin_routes_closed", markexpr="smoke and alb", credentials=False)
    assert run.returncode == 1 and len(run.failed) == 5, run.output
    assert all(f"blocked by aws.credentials: {NO_CREDENTIALS}" in m for m in run.failed.values()), run.failed
