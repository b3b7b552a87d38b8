"""ECS deployment alarms, as AWS documents them and moto 5.2 does not do them (moto never
evaluates a CloudWatch alarm, and an UpdateService with a new task definition creates no new
deployment: /work/shared/reference/aws-rollback-canary.md section 8). Installed by
fidelity.install(); the smallest model true to the docs:

- UpdateService with a new task definition starts a rolling deployment: a new PRIMARY
  deployment, rolloutState IN_PROGRESS, the previous one ACTIVE; its service deployment
  (ListServiceDeployments / DescribeServiceDeployments, fidelity.Deployments) IN_PROGRESS with
  `alarms.status` MONITORING.
- While it is IN_PROGRESS the alarms named in `deploymentConfiguration.alarms` (enable on) are
  evaluated from the metric data CloudWatch holds, as PutMetricAlarm documents: Period,
  EvaluationPeriods, DatapointsToAlarm ("M out of N"), Statistic, ComparisonOperator,
  Threshold, TreatMissingData. Their state is what DescribeAlarms then answers.
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
- An alarm in ALARM fails the deployment (rolloutState FAILED); with `rollback` on, the previous
  deployment becomes PRIMARY again (COMPLETED → IN_PROGRESS, the service's taskDefinition back
  to it), the failed one is scaled down and deleted, and its service deployment goes
  ROLLBACK_IN_PROGRESS → ROLLBACK_SUCCESSFUL with `alarms.triggeredAlarmNames` and
  `rollback{reason, startedAt, serviceRevisionArn}`.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html
- No alarm in ALARM until the bake time has passed: COMPLETED / SUCCESSFUL (alarms
  MONITORING_COMPLETE), the old deployment deleted. AWS publishes no bake-time formula ("Amazon
  ECS computes this time period based on the alarm configuration"); the inference used here is
  max over the alarms of Period × EvaluationPeriods (UNVERIFIED, AWS Copilot PR #4294).

The service events' wording for alarm failures is not documented (only the circuit breaker's
is): the messages below follow the documented forms and name what happened; match on states,
never on this text. Time: `clock` (seconds) decides the bake and the rollback's settling;
alarms are evaluated over the metric data's real timestamps. Everything happens on the next
read (DescribeServices, the service-deployment calls, DescribeAlarms), so a test sees each
step as a client polling AWS would.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Callable

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
ROLLBACK_SETTLE_S = 1.0  # the previous revision's tasks start again (the room's stand-in for ECS's scale-up)


@dataclass
class Tracked:
    """One deployment the room is watching (service ARN -> this)."""

    cluster: str
    service: str  # moto's "<cluster>:<name>" key
    deployment_id: str
    service_deployment: dict  # the fidelity.Deployments record of it
    previous_taskdef: str
    previous_revision: str | None
    alarm_names: list[str]
    rollback: bool
    bake_s: float
    started: float
    state: str = "IN_PROGRESS"  # IN_PROGRESS | ROLLING_BACK | DONE
    rolled_back_at: float = 0.0
    triggered: list[str] = field(default_factory=list)


@dataclass
class DeploymentAlarms:
    clock: Callable[[], float] = time.time
    watching: dict[str, Tracked] = field(default_factory=dict)
    # called with the service's name when ECS rolls it back (the reference stack takes a fault
    # that stood for the broken revision away: the previous revision serves again)
    on_rollback: list[Callable[[str], None]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- CloudWatch: an alarm's state from its metric's data ------------------------------------
    def evaluate(self, alarm: Any, backend: Any) -> str:
        """The state AWS would give `alarm` now (moto's Alarm object), set on it and returned."""
        period, n = int(alarm.period), int(alarm.evaluation_periods)
        m = int(alarm.datapoints_to_alarm or n)
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        start = now - timedelta(seconds=period * n)
        dims = [{"Name": d.name, "Value": d.value} for d in alarm.dimensions]
        stats = backend.get_metric_statistics(alarm.namespace, alarm.metric_name, start, now + timedelta(seconds=1),
                                              period, [alarm.statistic], dims)
        values = [float(v) for s in stats if (v := s.get_statistics_for_type(alarm.statistic)) is not None]
        breaching = sum(1 for v in values if OPERATORS[alarm.comparison_operator](v, float(alarm.threshold)))
        missing = max(0, n - len(values))
        treat = alarm.treat_missing_data or "missing"
        if treat == "breaching":
            breaching += missing
        if breaching >= m:
            state = "ALARM"
        elif not values and treat in ("missing", "ignore"):
            state = alarm.state_value if treat == "ignore" else "INSUFFICIENT_DATA"
        else:
            state = "OK"
        if state != alarm.state_value:
            shown = ", ".join(f"{v:g}" for v in values) or "no datapoints"
            alarm.update_state(f"Threshold Crossed: {len(values)} datapoint(s) [{shown}] in the last {n} period(s) "
                               f"of {period} s ({breaching} breaching, {m} needed)", "{}", state)
        return state

    # --- ECS: a deployment starts ---------------------------------------------------------------
    def start(self, ecs: Any, service: Any, previous_taskdef: str, deployments: Any, cloudwatch: Any) -> None:
        """`service` (moto's) was just updated to a new task definition: a rolling deployment."""
        with self.lock:
            config = getattr(service, "deployment_configuration", None) or {}
            alarms = config.get("alarms") or {}
            now, stamp = self.clock(), datetime.now(UTC)
            old = next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)
            if old is not None:
                old["status"] = "ACTIVE"
            new_id = f"ecs-svc/{uuid.uuid4().int % 10**19:019d}"
            service.deployments.insert(0, {
                **(old or {}), "id": new_id, "status": "PRIMARY", "taskDefinition": service.task_definition,
                "desiredCount": service.desired_count, "runningCount": service.desired_count, "pendingCount": 0,
                "failedTasks": 0, "createdAt": stamp, "updatedAt": stamp, "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": f"ECS deployment {new_id} in progress."})
            self._event(service, f"(service {service.name}) has started {service.desired_count} tasks: "
                                 f"(deployment {new_id}).")
            history = deployments.deployments.get(service.arn, [])
            previous_revision = history[-1]["targetServiceRevision"]["arn"] if history else None
            containers = ecs.describe_task_definition(service.task_definition).container_definitions
            images = [{"containerName": c["name"], "image": c["image"],
                       "imageDigest": "sha256:" + format(abs(hash(c["image"])), "064x")[:64]} for c in containers]
            arn = deployments.record(service.arn, f"arn:aws:ecs:{service.region_name}:{service._account_id}:cluster/"
                                     f"{service.cluster_name}", service.task_definition, images, status="IN_PROGRESS")
            record = deployments.deployments[service.arn][-1]
            assert record["serviceDeploymentArn"] == arn
            record["targetServiceRevision"]["runningTaskCount"] = service.desired_count  # moto "starts" them at once
            names = list(alarms.get("alarmNames") or []) if alarms.get("enable") else []
            record["deploymentConfiguration"]["alarms"] = {"alarmNames": names, "enable": bool(alarms.get("enable")),
                                                          "rollback": bool(alarms.get("rollback"))}
            record["alarms"] = {"status": "MONITORING" if names else "DISABLED", "alarmNames": names}
            watched = [cloudwatch.alarms[a] for a in names if a in cloudwatch.alarms]
            bake = max((int(a.period) * int(a.evaluation_periods) for a in watched), default=0)
            self.watching[service.arn] = Tracked(
                service.cluster_name, f"{service.cluster_name}:{service.name}", new_id, record, previous_taskdef,
                previous_revision, names, bool(alarms.get("rollback")), float(bake), now)

    # --- ECS: every read first lets time pass -----------------------------------------------
    def tick(self, ecs: Any, cloudwatch: Any) -> None:
        with self.lock:
            now = self.clock()
            for arn, t in list(self.watching.items()):
                service = ecs.services.get(t.service)
                if service is None:
                    del self.watching[arn]
                    continue
                if t.state == "IN_PROGRESS":
                    fired = [a for a in t.alarm_names
                             if a in cloudwatch.alarms and self.evaluate(cloudwatch.alarms[a], cloudwatch) == "ALARM"]
                    if fired:
                        self._fail(service, t, fired, now)
                    elif now - t.started >= t.bake_s:
                        self._complete(service, t)
                        tasks_run(ecs, service, service.task_definition)
                elif t.state == "ROLLING_BACK" and now - t.rolled_back_at >= ROLLBACK_SETTLE_S:
                    self._rolled_back(service, t)
                if t.state == "DONE":
                    del self.watching[arn]

    def _fail(self, service: Any, t: Tracked, fired: list[str], now: float) -> None:
        stamp = datetime.now(UTC)
        failed = next(d for d in service.deployments if d["id"] == t.deployment_id)
        t.triggered = fired
        reason = f"ECS deployment {t.deployment_id} failed: alarm(s) in ALARM: {', '.join(fired)}."
        failed.update(rolloutState="FAILED", rolloutStateReason=reason, updatedAt=stamp)
        record = t.service_deployment
        record["alarms"].update(status="TRIGGERED", triggeredAlarmNames=fired)
        record.update(updatedAt=stamp.timestamp(), statusReason=reason)
        self._event(service, f"(service {service.name}) (deployment {t.deployment_id}) deployment failed: "
                             f"alarm(s) {', '.join(fired)} in ALARM.")
        if not t.rollback or not t.previous_taskdef:
            record["status"] = "STOPPED"
            record["finishedAt"] = stamp.timestamp()
            t.state = "DONE"
            return
        previous = next((d for d in service.deployments if d.get("status") == "ACTIVE"), None)
        service.deployments[:] = [d for d in service.deployments if d["id"] != t.deployment_id]  # scaled down, deleted
        if previous is not None:
            previous.update(status="PRIMARY", rolloutState="IN_PROGRESS", updatedAt=stamp,
                            rolloutStateReason=f"ECS deployment {previous['id']} in progress.")
        service.task_definition = t.previous_taskdef
        record["status"] = "ROLLBACK_IN_PROGRESS"
        record["rollback"] = {"reason": reason, "startedAt": stamp.timestamp(),
                              "serviceRevisionArn": t.previous_revision or record["targetServiceRevision"]["arn"]}
        self._event(service, f"(service {service.name}) rolling back to deployment "
                             f"{previous['id'] if previous else t.previous_taskdef} (task definition "
                             f"{t.previous_taskdef.rsplit('/', 1)[-1]}): deployment {t.deployment_id} failed.")
        t.state, t.rolled_back_at = "ROLLING_BACK", now
        for hook in self.on_rollback:
            hook(service.name)

    def _rolled_back(self, service: Any, t: Tracked) -> None:
        stamp = datetime.now(UTC)
        primary = next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)
        if primary is not None:
            primary.update(rolloutState="COMPLETED", updatedAt=stamp,
                           rolloutStateReason=f"ECS deployment {primary['id']} completed.")
        t.service_deployment.update(status="ROLLBACK_SUCCESSFUL", finishedAt=stamp.timestamp(),
                                    updatedAt=stamp.timestamp())
        self._event(service, f"(service {service.name}) has reached a steady state.")
        t.state = "DONE"

    def _complete(self, service: Any, t: Tracked) -> None:
        stamp = datetime.now(UTC)
        service.deployments[:] = [d for d in service.deployments if d["id"] == t.deployment_id]  # old one deleted
        service.deployments[0].update(rolloutState="COMPLETED", updatedAt=stamp,
                                      rolloutStateReason=f"ECS deployment {t.deployment_id} completed.")
        record = t.service_deployment
        record["alarms"]["status"] = "MONITORING_COMPLETE" if t.alarm_names else "DISABLED"
        record["targetServiceRevision"]["runningTaskCount"] = service.desired_count
        record.update(status="SUCCESSFUL", finishedAt=stamp.timestamp(), updatedAt=stamp.timestamp())
        self._event(service, f"(service {service.name}) (deployment {t.deployment_id}) deployment completed.")
        self._event(service, f"(service {service.name}) has reached a steady state.")
        t.state = "DONE"

    @staticmethod
    def _event(service: Any, message: str) -> None:
        service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": datetime.now(UTC), "message": message})


def tasks_run(ecs: Any, service: Any, taskdef_arn: str) -> None:
    """The service's running tasks are `taskdef_arn`'s now: ECS replaced them during the rollout
    (moto's stay as they were started). Tests put them back with it too."""
    from moto.ecs.models import Container

    taskdef = ecs.describe_task_definition(taskdef_arn)
    for task in ecs.tasks.get(service.cluster_name, {}).values():
        if task.group == f"service:{service.name}" and task.last_status == "RUNNING":
            task.task_definition_arn = taskdef.arn
            task.containers = [Container(taskdef)]


ALARMS = DeploymentAlarms()
_installed = False


def install(deployments: Any) -> None:
    """Patch moto's ECS and CloudWatch backends once (fidelity.install calls it)."""
    global _installed
    if _installed:
        return
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    def cloudwatch_of(ecs: Any) -> Any:
        return cloudwatch_backends[ecs.account_id][ecs.region_name]

    original_update = EC2ContainerServiceBackend.update_service

    def update_service(self: Any, props: dict[str, Any]) -> Any:
        key = f"{props.get('cluster', 'default').rsplit('/', 1)[-1]}:{props.get('service', '').rsplit('/', 1)[-1]}"
        before = self.services[key].task_definition if key in self.services else None
        service = original_update(self, props)
        if before is not None and service.task_definition != before and service.deployments:
            ALARMS.start(self, service, before, deployments, cloudwatch_of(self))
        return service

    original_describe = EC2ContainerServiceBackend.describe_services

    def describe_services(self: Any, *args: Any, **kw: Any) -> Any:
        ALARMS.tick(self, cloudwatch_of(self))
        return original_describe(self, *args, **kw)

    def ticking(handler: Callable[..., Any]) -> Callable[..., Any]:
        def read(self: Any) -> Any:
            ALARMS.tick(self.ecs_backend, cloudwatch_of(self.ecs_backend))
            return handler(self)

        return read

    EC2ContainerServiceBackend.update_service = update_service
    EC2ContainerServiceBackend.describe_services = describe_services
    for name in ("list_service_deployments", "describe_service_deployments"):
        setattr(EC2ContainerServiceResponse, name, ticking(getattr(EC2ContainerServiceResponse, name)))
    _installed = True
