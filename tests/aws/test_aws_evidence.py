"""The seeds' incidents replayed on the seeded account with their real log lines: the failing
AWS check's first line names the cause, and the backend's evidence (lgtm_smoke/aws/evidence.py,
what the verdict puts beside any failure of that backend) carries target health with its
reason code, the service events, the last stopped task's reason and exit code, and the last
error lines of its log stream — bounded, secrets redacted."""

from __future__ import annotations

import contextlib

import pytest

from conftest import fetch_as_smoke, seeding

MIMIR_RUNTIME = (
    'level=error ts=2026-01-16T02:47:09.812Z caller=main.go:211 msg="error running application" '
    'err="failed to load runtime config: read file \\"s3://jsj-lgtm-data-s3/mimir/runtime-config.yaml\\": '
    'open s3://jsj-lgtm-data-s3/mimir/runtime-config.yaml: no such file or directory"'
)
TEMPO_TERM = (
    'level=info ts=2026-01-16T03:20:41.007Z caller=signals.go:62 msg="=== received SIGINT/SIGTERM ===\\n*** exiting"'
)
MEMCACHE = (
    'level=warn ts=2026-01-15T18:02:13.551Z caller=memcached_client.go:335 msg="error updating memcache servers" '
    'err="lookup ftt-mimir-memcache on 10.130.0.2:53: no such host"'
)
LEAKY = 'level=error msg="upstream rejected" header="X-LGTM-Edge-Secret: seeded-edge-secret" password=hunter2hunter2'


@contextlib.contextmanager
def stopped_task(stack, svc, reason, exit_code, lines, before=()):
    """A task of `svc` that ran, wrote `lines` to its log stream and was stopped for `reason`."""
    from moto.ecs.models import ecs_backends

    arn = seeding.run_task(stack, svc)
    seeding.write_logs(stack, svc, arn, [*before, *lines])
    stack.client("ecs").stop_task(cluster=stack.cluster, task=arn, reason=reason)
    task = ecs_backends[seeding.ACCOUNT][stack.region].tasks[stack.cluster][arn]
    task.containers[0].exitCode = exit_code  # moto keeps this one attribute camelCase
    task.stop_code = "EssentialContainerExited" if exit_code else "ServiceSchedulerInitiated"
    try:
        yield arn
    finally:
        ecs_backends[seeding.ACCOUNT][stack.region].tasks[stack.cluster].pop(arn)


@contextlib.contextmanager
def mimir_runtime_config_on_s3(stack):
    """2026-01-16 02:45: runtime_config.file = s3://…; Mimir exits at start-up."""
    with stopped_task(
        stack, "mimir", "Essential container in task exited", 1, [MIMIR_RUNTIME], before=[seeding.HEALTHY_LOG["mimir"]]
    ):
        yield


@contextlib.contextmanager
def tempo_ready_404_loop(stack):
    """2026-01-16 03:15: the health check went to /tempo/ready, which Tempo does not serve
    (http_path_prefix does not move /ready): 404, ELB kills the task, again and again."""
    reason = f"Task failed ELB health checks in (target-group {stack.tg_arns['tempo']})"
    with (
        seeding.target_health(stack, "tempo"),
        stopped_task(stack, "tempo", reason, 143, [TEMPO_TERM], before=[seeding.HEALTHY_LOG["tempo"]]),
    ):
        yield


@contextlib.contextmanager
def grace_period_zero(stack):
    """2026-01-16 04:15: grace period 0 s; Pyroscope is killed by ELB health checks while starting."""
    reason = f"Task failed ELB health checks in (target-group {stack.tg_arns['pyroscope']})"
    seeding.keep_dropped_service_fields(stack, "pyroscope", healthCheckGracePeriodSeconds=0)
    try:
        with stopped_task(
            stack, "pyroscope", reason, 143, ['level=info msg="=== received SIGINT/SIGTERM ===\\n*** exiting"']
        ):
            yield
    finally:
        seeding.keep_dropped_service_fields(
            stack, "pyroscope", healthCheckGracePeriodSeconds=int(stack.tf["health_check_grace_period_seconds"])
        )


@contextlib.contextmanager
def memcached_absent(stack):
    """2026-01-15 18:00: the configs point at memcached that was never created."""
    from moto.elasticache.models import elasticache_backends

    clusters = elasticache_backends[seeding.ACCOUNT][stack.region].cache_clusters
    saved = clusters.pop(stack.tf["memcached_cluster_id"])
    seeding.write_logs(stack, "mimir", stack.task_arns["mimir"][0], [MEMCACHE, LEAKY])
    try:
        yield
    finally:
        clusters[stack.tf["memcached_cluster_id"]] = saved
        seeding.write_logs(stack, "mimir", stack.task_arns["mimir"][0], [seeding.HEALTHY_LOG["mimir"]])


# incident -> (apply, backend, failing tests, the first test's first line must hold, evidence must hold)
INCIDENTS = {
    "mimir runtime_config on s3://": (
        mimir_runtime_config_on_s3,
        "mimir",
        {"test_no_recent_health_check_or_essential_exit_stops"},
        [
            "lgtm-prod-cluster/mimir",
            "Essential container in task exited",
            "mimir exit 1",
            'failed to load runtime config: read file \\"s3://jsj-lgtm-data-s3/mimir/runtime-config.yaml\\"',
        ],
        ["last stopped task", "Essential container in task exited", "mimir exit 1", "failed to load runtime config"],
    ),
    "http_path_prefix: /ready 404 restart loop": (
        tempo_ready_404_loop,
        "tempo",
        {"test_targets_healthy", "test_no_recent_health_check_or_essential_exit_stops"},
        ["target group lgtm-prod-tempo", "unhealthy", "Target.ResponseCodeMismatch", "[404]"],
        [
            "target group lgtm-prod-tempo:",
            "unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [404])",
            "Task failed ELB health checks",
            "tempo exit 143",
            "received SIGINT/SIGTERM",
        ],
    ),
    "health-check grace period 0": (
        grace_period_zero,
        "pyroscope",
        {"test_alb_services_have_grace_period", "test_no_recent_health_check_or_essential_exit_stops"},
        [
            "lgtm-prod-cluster/pyroscope",
            "healthCheckGracePeriodSeconds 0, expected ≥ 60",
            "ELB health checks kill tasks",
        ],
        ["Task failed ELB health checks", "pyroscope exit 143"],
    ),
    "memcached referenced but absent": (
        memcached_absent,
        "mimir",
        {"test_memcached_cluster_available", "test_mimir_and_loki_carry_memcached_endpoint"},
        ["ElastiCache cluster lgtm-prod-memcached not found in ap-northeast-2 (Mimir/Loki caches point at nothing)"],
        ["error updating memcache servers", "no such host"],
    ),
}


@pytest.mark.parametrize("incident", list(INCIDENTS))
def test_incident_first_line_names_the_cause(incident, stack, run_aws):
    apply, _, failing, first_words, _ = INCIDENTS[incident]
    with apply(stack):
        run = run_aws()
    assert set(run.failed) == failing, f"{incident}: failed {sorted(run.failed)}\n{run.output[-3000:]}"
    first = "test_targets_healthy" if "test_targets_healthy" in failing else min(failing)
    head = run.failed[first].strip().splitlines()[0]
    for word in first_words:
        assert word in head, f"{incident}: {word!r} not in the first line {head!r}"


@pytest.mark.parametrize("incident", list(INCIDENTS))
def test_incident_evidence_beside_the_backend(incident, account, stack, monkeypatch):
    from lgtm_smoke.aws.evidence import LINE_BYTES, LOG_BYTES, LOG_LINES, Evidence

    apply, backend, _, _, words = INCIDENTS[incident]
    monkeypatch.setenv("LGTM_EDGE_SECRET", "seeded-edge-secret")
    with apply(stack):
        snap, settings = fetch_as_smoke(account, stack)
        lines = Evidence(snap, settings).lines(backend)
    text = "\n".join(lines)
    for word in words:
        assert word in text, f"{incident}: {word!r} not in\n{text}"
    logs = [line for line in lines if line.startswith("log ")]
    assert logs and len(logs) <= LOG_LINES and sum(len(x.encode()) for x in logs) <= LOG_BYTES + 200 * len(logs)
    assert all(len(x.encode()) <= 2 * LINE_BYTES + 100 for x in lines)
    assert "seeded-edge-secret" not in text and "hunter2" not in text


def test_evidence_redacts_and_bounds():
    from lgtm_smoke.aws.evidence import LINE_BYTES, LOG_LINES, error_lines, redact

    assert (
        redact(LEAKY, ("seeded-edge-secret",))
        == 'level=error msg="upstream rejected" header="X-LGTM-Edge-Secret: <redacted>" password=<redacted>'
    )
    assert (
        redact("key AKIAABCDEFGHIJKLMNOP in http://u:pw@host/x")
        == "key <redacted access key> in http://u:<redacted>@host/x"
    )
    many = [f"level=error n={i} " + "x" * 1000 for i in range(20)] + ["level=info fine"]
    out = error_lines(many)
    assert len(out) <= LOG_LINES and all(len(x.encode()) <= LINE_BYTES for x in out) and "n=19" in out[-1]


def test_evidence_without_log_access_says_so(account, stack):
    """The smoke role without logs:GetLogEvents: the evidence names the denied action instead
    of the log lines; everything else is still there."""
    from lgtm_smoke.aws.evidence import Evidence

    with seeding.smoke_policy_without(stack, "logs:GetLogEvents"), tempo_ready_404_loop(stack):
        snap, settings = fetch_as_smoke(account, stack)
        lines = Evidence(snap, settings).lines("tempo")
    text = "\n".join(lines)
    assert "Target.ResponseCodeMismatch" in text
    assert "access denied: role lgtm-prod-smoke may not call logs:GetLogEvents" in text
