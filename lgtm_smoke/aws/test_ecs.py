"""ECS: is every service of the stack (grafana, mimir, loki, tempo, pyroscope, alloy) up, on
its latest deployment, sized validly, and protected against restart loops?
Run this area alone: `pytest -m "smoke and aws" -k test_ecs --alb $ALB`."""

import pytest

from lgtm_smoke.aws import ecs

pytestmark = [pytest.mark.smoke, pytest.mark.aws]


@pytest.mark.check(ecs.cluster_and_services_active)
def test_cluster_and_services_active(outcome):
    """The cluster and all six services exist and are ACTIVE. Fails on: wrong --cluster or
    region, a service never created or deleted (names `svc` or `*-svc`)."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.running_equals_desired)
def test_running_count_equals_desired(outcome):
    """runningCount == desiredCount ≥ 1 for each service. Fails on: tasks crash-looping or
    unable to start (image pull, secrets, OOM); the last service event is quoted."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.deployment_settled)
def test_deployment_settled(outcome):
    """Exactly one deployment, PRIMARY, rolloutState COMPLETED, failedTasks 0. Fails on: a
    rollout FAILED (circuit breaker rolled back — seed: Mimir runtime_config s3:// URI) or stuck
    with two deployments (new tasks never get healthy)."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.last_deployment_succeeded)
def test_last_deployment_not_rolled_back(outcome):
    """The last service deployment (ListServiceDeployments) of each service is SUCCESSFUL. Fails
    on: the circuit breaker rolled it back (ROLLBACK_SUCCESSFUL), which DescribeServices no
    longer shows; names the failed task definition, its image and why its tasks stopped
    (seed: a bad image → CannotPullContainerError → rollback)."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.circuit_breaker)
def test_circuit_breaker_with_rollback(outcome):
    """deploymentConfiguration.deploymentCircuitBreaker has enable and rollback on, so a bad
    image rolls back instead of looping. Fails when off, or when the API returns no
    deploymentConfiguration (then it cannot be confirmed)."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.tasks_on_current_definition)
def test_tasks_run_current_task_definition(outcome):
    """Every RUNNING task uses the service's current task definition. Fails on: the old
    revision still serving after a deploy (seed: Pyroscope kept running the previous image)."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.no_recent_bad_stops)
def test_no_recent_health_check_or_essential_exit_stops(outcome):
    """No task stopped within --stopped-window-minutes for failing ELB health checks, an
    essential container exit or failing to start (TaskFailedToStart); the stoppedReason is reported.
    Fails on: restart loops (seed:
    Tempo/Pyroscope SIGTERM every ~5 min with a 0 s grace period)."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.fargate_sizes)
def test_task_sizes_are_valid_fargate_combinations(outcome):
    """Task cpu/memory is in the Fargate table (lgtm_smoke/data/fargate.json). Fails on: sizes
    like 512/1536 that ECS rejects (seed: the "50% memory buffer" change)."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.grace_period)
def test_alb_services_have_grace_period(outcome):
    """Services behind the ALB have healthCheckGracePeriodSeconds ≥ 60. Fails on: 0 s (seed:
    tasks killed during start-up, restart loop, circuit-breaker rollbacks)."""
    assert outcome["findings"] == []


@pytest.mark.check(ecs.running_image)
def test_running_image_is_expected(outcome):
    """Running containers use --expect-image-tag / --expect-image-digest when given, else their
    task definition's image. Fails on: an old image still running after a deploy (seed: the
    fixed ECR tag `2.9.0` never changed, so nothing was redeployed)."""
    assert outcome["findings"] == []
