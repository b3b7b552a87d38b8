"""Fault injection: each fault, applied to the seeded moto stack and undone after, fails
exactly its own check, with a message naming the resource. Read as a runbook: fault →
the one check on-call sees fail → what it says."""

from __future__ import annotations

import contextlib
import copy

import pytest

from conftest import seeding

# The rules the faults break, found in infra/routes.json by what they do (not by number), so
# the faults follow the route table as it changes.
ROUTES = seeding.routes()
_LISTENERS = ROUTES.get("listeners") or {"http": ROUTES.get("listener") or {"port": 80, "protocol": "HTTP"}}
LISTENER = _LISTENERS[ROUTES.get("rules_listener", "http")]
PORT = LISTENER["port"]
FORWARDS = [r for r in ROUTES["rules"] if r.get("action", "forward") == "forward"]
LOKI = next(r for r in FORWARDS if r["target_group"] == "loki")
MIMIR = [r for r in FORWARDS if r["target_group"] == "mimir"][-1]
REWRITE = next(r for r in FORWARDS if r.get("rewrite"))


@contextlib.contextmanager
def service_attr(stack, svc, **changes):
    """Edit moto's ECS Service object (stands for ECS's own view of the service)."""
    service = seeding.ecs_service(stack, svc)
    old = {k: getattr(service, k) for k in changes}
    for k, v in changes.items():
        setattr(service, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(service, k, v)


@contextlib.contextmanager
def running_below_desired(stack):
    with service_attr(stack, "loki", running_count=0, pending_count=1):
        yield


@contextlib.contextmanager
def rollout_failed(stack):
    """What the circuit breaker leaves behind (seed: Mimir runtime_config s3:// URI)."""
    dep = seeding.ecs_service(stack, "mimir").deployments[0]
    old = dict(dep)
    dep.update(
        rolloutState="FAILED",
        rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
        failedTasks=3,
    )
    try:
        yield
    finally:
        dep.clear()
        dep.update(old)


@contextlib.contextmanager
def two_deployments(stack):
    """A new deployment stuck IN_PROGRESS next to the old ACTIVE one."""
    service = seeding.ecs_service(stack, "pyroscope")
    old = [dict(d) for d in service.deployments]
    new = dict(
        old[0],
        id="ecs-svc/stuck",
        rolloutState="IN_PROGRESS",
        runningCount=0,
        pendingCount=1,
        rolloutStateReason="ECS deployment ecs-svc/stuck in progress.",
    )
    service.deployments = [new, dict(old[0], status="ACTIVE")]
    try:
        yield
    finally:
        service.deployments = old


@contextlib.contextmanager
def task_stopped_by_elb(stack):
    """A task ECS stopped for failing ELB health checks (seed: Tempo/Pyroscope restart loop).
    moto gives stopped tasks no stoppedAt: the check counts an unknown time as recent."""
    ecs = stack.client("ecs")
    arn = seeding.run_task(stack, "tempo")
    ecs.stop_task(
        cluster=stack.cluster,
        task=arn,
        reason=f"Task failed ELB health checks in (target-group {stack.tg_arns['tempo']})",
    )
    try:
        yield
    finally:
        from moto.ecs.models import ecs_backends

        ecs_backends[seeding.ACCOUNT][stack.region].tasks[stack.cluster].pop(arn)


@contextlib.contextmanager
def repoint(stack, svc, taskdef_arn, tasks_too: bool):
    """The service's current task definition becomes `taskdef_arn` (tasks follow if asked)."""
    from moto.ecs.models import ecs_backends

    service = seeding.ecs_service(stack, svc)
    tasks = [ecs_backends[seeding.ACCOUNT][stack.region].tasks[stack.cluster][a] for a in stack.task_arns[svc]]
    old = service.task_definition
    service.task_definition = service.deployments[0]["taskDefinition"] = taskdef_arn
    for t in tasks if tasks_too else []:
        t.task_definition_arn = taskdef_arn
    try:
        yield
    finally:
        service.task_definition = service.deployments[0]["taskDefinition"] = old
        for t in tasks:
            t.task_definition_arn = old


@contextlib.contextmanager
def invalid_fargate_size(stack):
    """512 cpu / 1536 MiB (seed: the "50% buffer" change ECS rejected); moto accepts it."""
    arn = seeding.register_task_definition(stack, "loki", stack.tf["service_config"]["loki"], memory=1536)
    with repoint(stack, "loki", arn, tasks_too=True):
        yield


@contextlib.contextmanager
def old_revision_running(stack):
    """A new revision is the service's, but the task still runs the previous one."""
    arn = seeding.register_task_definition(
        stack,
        "pyroscope",
        stack.tf["service_config"]["pyroscope"],
        image_uri=seeding.image(stack.tf, stack.region, "pyroscope", "20260117-010000"),
    )
    with repoint(stack, "pyroscope", arn, tasks_too=False):
        yield


@contextlib.contextmanager
def dropped_fields(stack, svc, **fields):
    service = seeding.ecs_service(stack, svc)
    saved = {name: copy.deepcopy(getattr(service, seeding.snake(name), None)) for name in fields}
    seeding.keep_dropped_service_fields(stack, svc, **fields)
    try:
        yield
    finally:  # as the seed left them (the deploy alarms included)
        seeding.keep_dropped_service_fields(stack, svc, **saved)


@contextlib.contextmanager
def no_deployment_configuration(stack):
    """moto without the workaround: describe_services has no deploymentConfiguration."""
    service = seeding.ecs_service(stack, "grafana")
    saved = service.deployment_configuration
    del service.deployment_configuration
    try:
        yield
    finally:
        service.deployment_configuration = saved


@contextlib.contextmanager
def rule_missing(stack):
    rule = seeding.rule_for(stack, LOKI["priority"])
    stack.client("elbv2").delete_rule(RuleArn=stack.rule_arns[LOKI["priority"]])
    try:
        yield
    finally:
        stack.rule_arns[LOKI["priority"]] = seeding.create_rule(stack, rule)


@contextlib.contextmanager
def rule_wrong_target_group(stack):
    elb = stack.client("elbv2")
    arn = stack.rule_arns[MIMIR["priority"]]
    elb.modify_rule(RuleArn=arn, Actions=[{"Type": "forward", "TargetGroupArn": stack.tg_arns["loki"]}])
    try:
        yield
    finally:
        elb.modify_rule(RuleArn=arn, Actions=[{"Type": "forward", "TargetGroupArn": stack.tg_arns["mimir"]}])


@contextlib.contextmanager
def tempo_rewrite_missing(stack):
    """The rule exists but describe_rules shows no Transforms (what moto does without the workaround)."""
    rule = seeding.rule_object(stack, stack.rule_arns[REWRITE["priority"]])
    saved = rule.transforms
    seeding.keep_rule_transforms(stack, stack.rule_arns[REWRITE["priority"]], None)
    try:
        yield
    finally:
        rule.transforms = saved


@contextlib.contextmanager
def deregistration_delay_default(stack):
    elb = stack.client("elbv2")
    elb.modify_target_group_attributes(
        TargetGroupArn=stack.tg_arns["loki"],
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}],
    )
    try:
        yield
    finally:
        elb.modify_target_group_attributes(
            TargetGroupArn=stack.tg_arns["loki"],
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "120"}],
        )


@contextlib.contextmanager
def s3_object(stack, key):
    s3 = stack.client("s3")
    s3.put_object(Bucket=stack.tf["data_bucket"], Key=key, Body=b"{}")
    try:
        yield
    finally:
        s3.delete_object(Bucket=stack.tf["data_bucket"], Key=key)


@contextlib.contextmanager
def public_access_block_off(stack):
    s3, bucket = stack.client("s3"), stack.tf["data_bucket"]
    saved = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=dict(saved, BlockPublicPolicy=False, RestrictPublicBuckets=False)
    )
    try:
        yield
    finally:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=saved)


@contextlib.contextmanager
def cache_not_available(stack):
    from moto.elasticache.models import elasticache_backends

    cluster = elasticache_backends[seeding.ACCOUNT][stack.region].cache_clusters[stack.tf["memcached_cluster_id"]]
    cluster.cache_cluster_status = "incompatible-network"
    try:
        yield
    finally:
        cluster.cache_cluster_status = "available"


@contextlib.contextmanager
def cloudmap_zero_instances(stack):
    sd = stack.client("servicediscovery")
    sd.deregister_instance(ServiceId=stack.cloudmap_ids["grafana"], InstanceId=stack.instance_ids["grafana"])
    try:
        yield
    finally:
        sd.register_instance(
            ServiceId=stack.cloudmap_ids["grafana"],
            InstanceId=stack.instance_ids["grafana"],
            Attributes={"AWS_INSTANCE_IPV4": "10.130.10.20"},
        )


@contextlib.contextmanager
def health_check_path_prefixed(stack):
    """Seed 2026-01-16 03:15: the health check moved to /pyroscope/ready, which the image did not serve."""
    elb = stack.client("elbv2")
    elb.modify_target_group(TargetGroupArn=stack.tg_arns["pyroscope"], HealthCheckPath="/pyroscope/ready")
    try:
        yield
    finally:
        elb.modify_target_group(TargetGroupArn=stack.tg_arns["pyroscope"], HealthCheckPath="/ready")


@contextlib.contextmanager
def tenant_folder_gone(stack):
    """Loki writes under another tenant id (seed: the old aws-rag-* tenants)."""
    s3, bucket = stack.client("s3"), stack.tf["data_bucket"]
    s3.delete_object(Bucket=bucket, Key=f"loki/{stack.tf['tenant_id']}/chunks/abc")
    s3.put_object(Bucket=bucket, Key="loki/aws-rag-cloudwatch/chunks/abc", Body=b"{}")
    try:
        yield
    finally:
        s3.delete_object(Bucket=bucket, Key="loki/aws-rag-cloudwatch/chunks/abc")
        s3.put_object(Bucket=bucket, Key=f"loki/{stack.tf['tenant_id']}/chunks/abc", Body=b"{}")


@contextlib.contextmanager
def encryption_reset_to_sse_s3(stack):
    """What AWS leaves after DeleteBucketEncryption (or a console edit): SSE-S3, not the
    stack's SSE-KMS. moto would leave no configuration at all, so it is put as AWS has it."""
    stack.client("s3").put_bucket_encryption(
        Bucket=stack.tf["data_bucket"],
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
        },
    )
    try:
        yield
    finally:
        seeding.put_kms_encryption(stack)


@contextlib.contextmanager
def data_versioning_on(stack):
    s3, bucket = stack.client("s3"), stack.tf["data_bucket"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    try:
        yield
    finally:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})


@contextlib.contextmanager
def memcached_endpoint_stale(stack):
    """Seed 2026-01-15 18:00: the config pointed at ftt-mimir-memcache:11211, which never existed."""
    arn = seeding.register_task_definition(stack, "mimir", stack.tf["service_config"]["mimir"])
    from moto.ecs.models import ecs_backends

    td = ecs_backends[seeding.ACCOUNT][stack.region].describe_task_definition(arn)
    env = td.container_definitions[0]["environment"]
    for e in env:
        if e["name"] == "MEMCACHED_ENDPOINT":
            e["value"] = "ftt-mimir-memcache:11211"
    with repoint(stack, "mimir", arn, tasks_too=True):
        yield


@contextlib.contextmanager
def listener_moved(stack):
    """The rules listener is not on routes.json's port: nothing routes, so the rule and
    rewrite checks have no listener to read either; the listener check says why."""
    from moto.elbv2.models import elbv2_backends

    listener = elbv2_backends[seeding.ACCOUNT][stack.region].describe_listeners(None, [stack.listener_arn])[0]
    listener.port = 8080
    try:
        yield
    finally:
        listener.port = PORT


def tag_args(stack, **override):
    tags = {svc: stack.image_tag(svc) for svc in stack.images} | override
    return ("--expect-image-tag", ",".join(f"{k}={v}" for k, v in tags.items()))


# fault id -> (apply(stack), extra args(stack), the one failing test (or: it, then the checks that
# cannot run without what it broke), words its message must hold)
FAULTS = {
    "service running < desired": (
        running_below_desired,
        None,
        "test_running_count_equals_desired",
        ["ECS service lgtm-prod-cluster/loki", "running 0 of desired 1"],
    ),
    "rollout FAILED": (
        rollout_failed,
        None,
        "test_deployment_settled",
        ["lgtm-prod-cluster/mimir", "rolloutState FAILED", "3 failed tasks"],
    ),
    "two deployments (stuck)": (
        two_deployments,
        None,
        "test_deployment_settled",
        ["lgtm-prod-cluster/pyroscope", "2 deployments, expected exactly 1"],
    ),
    "task stopped by ELB health checks": (
        task_stopped_by_elb,
        None,
        "test_no_recent_health_check_or_essential_exit_stops",
        ["lgtm-prod-cluster/tempo", "Task failed ELB health checks", "lgtm-prod-tempo"],
    ),
    "invalid Fargate combination": (
        invalid_fargate_size,
        None,
        "test_task_sizes_are_valid_fargate_combinations",
        ["task definition lgtm-prod-loki:2", "cpu 512 / memory 1536 is not a valid Fargate combination"],
    ),
    "old revision still running": (
        old_revision_running,
        None,
        "test_tasks_run_current_task_definition",
        ["lgtm-prod-cluster/pyroscope", "runs lgtm-prod-pyroscope:1, not the service's lgtm-prod-pyroscope:2"],
    ),
    "grace period 0": (
        lambda s: dropped_fields(s, "tempo", healthCheckGracePeriodSeconds=0),
        None,
        "test_alb_services_have_grace_period",
        ["lgtm-prod-cluster/tempo", "healthCheckGracePeriodSeconds 0"],
    ),
    "circuit breaker off": (
        lambda s: dropped_fields(
            s, "alloy", deploymentConfiguration={"deploymentCircuitBreaker": {"enable": False, "rollback": False}}
        ),
        None,
        "test_circuit_breaker_with_rollback",
        ["lgtm-prod-cluster/alloy", "enable=False rollback=False"],
    ),
    "no deploymentConfiguration returned": (
        no_deployment_configuration,
        None,
        "test_circuit_breaker_with_rollback",
        ["lgtm-prod-cluster/grafana", "returned no deploymentConfiguration"],
    ),
    "image tag mismatch": (
        None,
        lambda s: tag_args(s, pyroscope="1.13.5-20260120-000000"),
        "test_running_image_is_expected",
        ["lgtm-prod-cluster/pyroscope", "expected tag 1.13.5-20260120-000000", "lgtm-pyroscope:1.13.5-20260116-043000"],
    ),
    "service DRAINING": (
        lambda s: service_attr(s, "grafana", status="DRAINING"),
        None,
        "test_cluster_and_services_active",
        ["ECS service lgtm-prod-cluster/grafana", "status DRAINING, expected ACTIVE"],
    ),
    "memcached endpoint stale": (
        memcached_endpoint_stale,
        None,
        "test_mimir_and_loki_carry_memcached_endpoint",
        [
            "task definition lgtm-prod-mimir:",
            "MEMCACHED_ENDPOINT=ftt-mimir-memcache:11211 does not name cluster lgtm-prod-memcached",
        ],
    ),
    "health check path prefixed": (
        health_check_path_prefixed,
        None,
        "test_health_check_path_and_port",
        ["target group lgtm-prod-pyroscope", "health check /pyroscope/ready", "expected /ready"],
    ),
    "target unhealthy": (
        lambda s: seeding.target_health(s, "pyroscope"),
        None,
        "test_targets_healthy",
        ["target group lgtm-prod-pyroscope", "unhealthy", "Target.ResponseCodeMismatch", "[404]"],
    ),
    "rules listener moved": (
        listener_moved,
        None,
        ("test_listener_present", "test_listener_rules_equal_route_table", "test_tempo_rewrite_in_place"),
        ["ALB lgtm-prod-alb", f"no {LISTENER['protocol']} listener on port {PORT}", "8080"],
    ),
    "rule missing": (
        rule_missing,
        None,
        "test_listener_rules_equal_route_table",
        [f"ALB lgtm-prod-alb:{PORT} rule {LOKI['priority']} ({LOKI['name']})", "missing", LOKI["paths"][0]],
    ),
    "rule to wrong target group": (
        rule_wrong_target_group,
        None,
        "test_listener_rules_equal_route_table",
        [f"rule {MIMIR['priority']} ({MIMIR['name']})", "forwards to loki, expected forward to target group mimir"],
    ),
    "tempo rewrite missing": (
        tempo_rewrite_missing,
        None,
        "test_tempo_rewrite_in_place",
        [
            f"rule {REWRITE['priority']} ({REWRITE['name']})",
            "no Transforms in describe_rules",
            REWRITE["rewrite"]["regex"],
        ],
    ),
    "deregistration delay 300 s": (
        deregistration_delay_default,
        None,
        "test_deregistration_delay_within_stop_timeout",
        ["target group lgtm-prod-loki", "deregistration delay 300s > loki container stopTimeout 120s"],
    ),
    "anonymous/ under pyroscope/": (
        lambda s: s3_object(s, "pyroscope/anonymous/phlaredb/block.parquet"),
        None,
        "test_no_tenantless_folders",
        ["s3://jsj-lgtm-data-s3/pyroscope/anonymous/", "'anonymous' tenant folder"],
    ),
    "stray tenant_settings.json at root": (
        lambda s: s3_object(s, "tenant_settings.json"),
        None,
        "test_top_level_layout",
        ["s3://jsj-lgtm-data-s3/tenant_settings.json", "stray object at the bucket root"],
    ),
    "tenant folder missing under loki/": (
        tenant_folder_gone,
        None,
        "test_each_backend_has_tenant_folder",
        ["s3://jsj-lgtm-data-s3/loki/", "no jsj-lgtm-header/ folder", "aws-rag-cloudwatch/"],
    ),
    "default encryption reset to SSE-S3": (
        encryption_reset_to_sse_s3,
        None,
        "test_default_encryption_on",
        ["s3://jsj-lgtm-data-s3", "default encryption AES256, expected aws:kms"],
    ),
    "data bucket versioning on": (
        data_versioning_on,
        None,
        "test_versioning_as_intended",
        ["s3://jsj-lgtm-data-s3", "versioning Enabled"],
    ),
    "public access block off": (
        public_access_block_off,
        None,
        "test_public_access_block_on",
        ["s3://jsj-lgtm-data-s3", "BlockPublicPolicy, RestrictPublicBuckets false"],
    ),
    "cache cluster not available": (
        cache_not_available,
        None,
        "test_memcached_cluster_available",
        ["ElastiCache cluster lgtm-prod-memcached", "status incompatible-network, expected available"],
    ),
    "Cloud Map service with 0 instances": (
        cloudmap_zero_instances,
        None,
        "test_services_registered_with_healthy_instances",
        ["Cloud Map lgtm.local/grafana", "0 instances, none healthy"],
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_fails_exactly_its_check(fault, stack, run_aws):
    apply, extra, checks, words = FAULTS[fault]
    checks = (checks,) if isinstance(checks, str) else checks  # the first is the fault's own check
    with apply(stack) if apply else contextlib.nullcontext():
        run = run_aws(*(extra(stack) if extra else ()))
    assert set(run.failed) == set(checks), f"{fault}: failed {sorted(run.failed)}\n{run.output[-3000:]}"
    message = run.failed[checks[0]]
    for word in words:
        assert word in message, f"{fault}: {word!r} not in {message!r}"
    assert "Traceback" not in run.output


def test_faults_are_undone(run_aws):
    """After every fault above, the stack is healthy again (so each fault test is independent)."""
    run = run_aws()
    assert run.returncode == 0 and not run.failed, run.output
