"""ECS: the cluster and each service (grafana, mimir, loki, tempo, pyroscope, alloy).

Snapshot keys: ecs.cluster, ecs.services {svc: describe_services entry | None},
ecs.taskdefs {svc: taskDefinition}, ecs.tasks {svc: {"running": [...], "stopped": [...]}},
ecs.deployments {svc: {"last": ServiceDeployment, "revisions": {arn: ServiceRevision}} | Failed}.

Why service deployments: with the circuit breaker's rollback on, a failed deployment leaves
no trace in DescribeServices (one PRIMARY/COMPLETED deployment on the previous task
definition, and `taskDefinition` reverts too). Only ListServiceDeployments /
DescribeServiceDeployments keep `ROLLBACK_SUCCESSFUL` and the revision that failed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from . import fargate
from .evidence import last_error, log_stream, newest_stopped
from .settings import AwsSettings, match_name
from .snapshot import Finding, Snapshot, aws_check

LIVE = ("IN_PROGRESS", "PENDING", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
ROLLED_BACK = ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_REQUESTED")
BAD_STOP_CODES = ("EssentialContainerExited", "TaskFailedToStart")

DEFAULT_STOP_TIMEOUT = 30  # Fargate default when a container sets no stopTimeout


def fetch(f) -> None:
    s, ecs = f.settings, f.clients["ecs"]
    if not s.cluster:
        f.snapshot.fail("ecs", f"no ECS cluster name: {s.hints['cluster']}")
        return
    listing = f.pool.submit(
        lambda: [a for page in ecs.get_paginator("list_services").paginate(cluster=s.cluster) for a in page["serviceArns"]]
    )
    clusters = ecs.describe_clusters(clusters=[s.cluster]).get("clusters") or []
    if not clusters or clusters[0].get("status") == "INACTIVE":
        listing.exception()  # a missing cluster fails the listing too; the cluster is the news
        f.snapshot.fail("ecs", f"ECS cluster {s.cluster} not found in {f.region}: check --cluster / --region")
        return
    f.snapshot.put("ecs.cluster", clusters[0])
    arns = listing.result()
    names = {arn.rsplit("/", 1)[-1]: arn for arn in arns}
    actual = {svc: match_name(svc, names) for svc in s.services}
    found = [n for n in actual.values() if n]
    described: dict[str, dict] = {}
    for i in range(0, len(found), 10):
        for svc in ecs.describe_services(cluster=s.cluster, services=found[i : i + 10])["services"]:
            described[svc["serviceName"]] = svc
    services = {svc: described.get(name) if name else None for svc, name in actual.items()}
    f.snapshot.put("ecs.services", services)

    def taskdef(svc):
        try:
            return svc, ecs.describe_task_definition(taskDefinition=services[svc]["taskDefinition"])["taskDefinition"]
        except Exception as e:  # noqa: BLE001
            return svc, Failed(f.describe(e, f"reading task definition of ECS service {services[svc]['serviceName']}"))

    def cluster_tasks(status):
        """One listing for the whole cluster (not one per service): fewer calls, same facts."""
        arns = [
            a for p in ecs.get_paginator("list_tasks").paginate(cluster=s.cluster, desiredStatus=status) for a in p["taskArns"]
        ]
        chunks = f.map(
            lambda i: ecs.describe_tasks(cluster=s.cluster, tasks=arns[i : i + 100])["tasks"], range(0, len(arns), 100)
        )
        return status, [t for chunk in chunks for t in chunk]

    present = [svc for svc in s.services if services[svc]]
    td_future = f.pool.submit(f.map, taskdef, present)
    deps_future = f.pool.submit(_deployments, f, services, present)
    groups = {f"service:{services[svc]['serviceName']}": svc for svc in present}

    def all_tasks():
        tasks: dict = {svc: {"running": [], "stopped": []} for svc in present}
        for status, found in f.map(cluster_tasks, ("RUNNING", "STOPPED")):
            for t in found:  # a service's tasks carry group "service:<service name>"
                if t.get("group") in groups:
                    tasks[groups[t["group"]]][status.lower()].append(t)
        return tasks

    tasks = f.attempt("ecs.tasks", f"reading the tasks of ECS cluster {s.cluster}", all_tasks) or {}
    taskdefs = dict(td_future.result())  # a failed read is that service's Failed line
    f.snapshot.put("ecs.taskdefs", taskdefs)
    reader = f.snapshot.get("logs.reader")
    streams = [
        log_stream(taskdefs[svc], t)
        for svc in present
        for t in [newest_stopped(tasks.get(svc, {}))]
        if t and isinstance(taskdefs.get(svc), dict)
    ]
    if reader is not None:  # the last stopped task's log tail: what the stop checks quote
        f.map(lambda where: reader.prefetch(*where) if where else None, streams)
    f.snapshot.put("ecs.deployments", deps_future.result())


def _deployments(f, services: dict, present: list[str]) -> dict:
    """The last service deployment of each service and the revisions it names (target and
    sources: their task definitions and the images ECS resolved)."""
    gaps = f.snapshot.get("model_gaps", {})
    gap = next((why for key, why in gaps.items() if key.startswith("ecs.")), None)
    if gap:
        return {svc: Failed(gap) for svc in present}
    ecs, cluster = f.clients["ecs"], f.settings.cluster

    def one(svc):
        name = services[svc]["serviceName"]
        try:
            briefs = ecs.list_service_deployments(cluster=cluster, service=name).get("serviceDeployments", [])
            if not briefs:
                return svc, {"last": None, "revisions": {}}
            latest = max(briefs, key=lambda b: b.get("createdAt") or b.get("startedAt") or datetime.min.replace(tzinfo=UTC))
            dep = ecs.describe_service_deployments(serviceDeploymentArns=[latest["serviceDeploymentArn"]])["serviceDeployments"][
                0
            ]
            arns = [
                r["arn"] for r in [dep.get("targetServiceRevision") or {}, *dep.get("sourceServiceRevisions", [])] if r.get("arn")
            ]
            revisions = ecs.describe_service_revisions(serviceRevisionArns=arns)["serviceRevisions"] if arns else []
            return svc, {"last": dep, "revisions": {r["serviceRevisionArn"]: r for r in revisions}}
        except Exception as e:  # noqa: BLE001
            return svc, Failed(f.describe(e, f"reading the deployments of ECS service {name}"))

    return dict(f.map(one, present))


class Failed(str):
    """A per-resource fetch failure (one line), kept in place of the value."""


# --- helpers for checks ------------------------------------------------------------------
def _services(snap: Snapshot, s: AwsSettings):
    """Yield (svc, resource name, service dict); a missing service is itself a finding."""
    services = snap.need("ecs.services")
    out, findings = [], []
    for svc in s.services:
        data = services.get(svc)
        name = f"ECS service {s.cluster}/{svc}"
        if data is None:
            findings.append(Finding(name, f"not found in cluster {s.cluster} (looked for '{svc}' or '*-{svc}')"))
        else:
            out.append((svc, f"ECS service {s.cluster}/{data['serviceName']}", data))
    return out, findings


def find_cluster_and_services_active(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    cluster = snap.need("ecs.cluster")
    findings = []
    if cluster.get("status") != "ACTIVE":
        findings.append(Finding(f"ECS cluster {s.cluster}", f"status {cluster.get('status')}, expected ACTIVE"))
    found, missing = _services(snap, s)
    findings += missing
    findings += [
        Finding(name, f"status {d.get('status')}, expected ACTIVE") for _, name, d in found if d.get("status") != "ACTIVE"
    ]
    return findings


def find_running_equals_desired(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    found, findings = _services(snap, s)
    for _, name, d in found:
        running, desired = d.get("runningCount", 0), d.get("desiredCount", 0)
        if desired < 1:
            findings.append(Finding(name, f"desiredCount {desired}: the service is scaled to zero"))
        elif running != desired:
            findings.append(
                Finding(name, f"running {running} of desired {desired} (pending {d.get('pendingCount', 0)}){_last_event(d)}")
            )
    return findings


def _last_event(d: dict) -> str:
    events = d.get("events") or []
    return f"; last event: {events[0].get('message')}" if events else ""


def find_deployment_settled(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Exactly one deployment, PRIMARY, rolloutState COMPLETED, failedTasks 0."""
    found, findings = _services(snap, s)
    for _, name, d in found:
        deps = d.get("deployments") or []
        if len(deps) != 1:
            states = ", ".join(
                f"{x.get('status')}/{x.get('rolloutState', '?')} {x.get('taskDefinition', '').rsplit('/', 1)[-1]}"
                f" {x.get('runningCount', 0)}/{x.get('desiredCount', 0)}"
                for x in deps
            )
            findings.append(
                Finding(name, f"{len(deps)} deployments, expected exactly 1 (a rollout is stuck or still running): {states}")
            )
            continue
        dep = deps[0]
        if dep.get("status") != "PRIMARY":
            findings.append(Finding(name, f"only deployment is {dep.get('status')}, expected PRIMARY"))
        if dep.get("rolloutState") != "COMPLETED":
            findings.append(
                Finding(name, f"rolloutState {dep.get('rolloutState')}: {dep.get('rolloutStateReason', '')}".rstrip(": "))
            )
        if dep.get("failedTasks", 0):
            findings.append(Finding(name, f"deployment {dep.get('id')} has {dep['failedTasks']} failed tasks"))
    return findings


def find_last_deployment_succeeded(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """The last service deployment of each service succeeded: not rolled back by the circuit
    breaker, not failed or stopped. Names the revision that failed, its task definition and
    image, and why its tasks stopped (seed: a bad image → tasks fail to start → rollback)."""
    found, findings = _services(snap, s)
    deployments, tasks = snap.need("ecs.deployments"), snap.get("ecs.tasks", {})
    for svc, name, d in found:
        entry = deployments.get(svc)
        if isinstance(entry, str):
            findings.append(Finding(name, str(entry)))
            continue
        dep = (entry or {}).get("last")
        if not dep or dep.get("status") == "SUCCESSFUL":
            continue
        revisions = entry.get("revisions", {})
        target = revisions.get((dep.get("targetServiceRevision") or {}).get("arn"), {})
        taskdef = target.get("taskDefinition")
        images = ", ".join(c.get("image", "?") for c in target.get("containerImages", [])) or "image unknown"
        stop = _why_stopped(tasks.get(svc, {}), taskdef)
        reason = (dep.get("rollback") or {}).get("reason") or dep.get("statusReason") or ""
        status = dep.get("status")
        if status in ROLLED_BACK:
            back_to = revisions.get((dep.get("rollback") or {}).get("serviceRevisionArn"), {}).get("taskDefinition") or d.get(
                "taskDefinition"
            )
            what = f"last deployment rolled back ({status}): {_short(taskdef)} ({images}) failed"
            findings.append(
                Finding(
                    name,
                    f"{what}{f' — {stop}' if stop else ''}{f'; {reason}' if reason else ''}; running {_short(back_to)} again",
                )
            )
        elif status in LIVE:
            findings.append(
                Finding(name, f"deployment of {_short(taskdef)} ({images}) still {status}: the gate ran before it settled")
            )
        else:
            findings.append(
                Finding(
                    name,
                    f"last deployment of {_short(taskdef)} ({images}) is {status}"
                    f"{f': {reason}' if reason else ''}{f' — {stop}' if stop else ''}",
                )
            )
    return findings


def _why_stopped(tasks: dict, taskdef: str | None) -> str:
    """The stop reason of the newest stopped task of `taskdef` (the revision that failed)."""
    stopped = [t for t in tasks.get("stopped", []) if not taskdef or t.get("taskDefinitionArn") == taskdef]
    if not stopped:
        return ""
    t = max(stopped, key=lambda t: str(t.get("stoppedAt") or ""))
    exits = [f"{c.get('name')} exit {c.get('exitCode')}" for c in t.get("containers", []) if c.get("exitCode") not in (None, 0)]
    code = t.get("stopCode")
    return f"task stopped{f' ({code})' if code else ''}: {t.get('stoppedReason', '?')}" + (
        f" ({', '.join(exits)})" if exits else ""
    )


def find_circuit_breaker(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    found, findings = _services(snap, s)
    for _, name, d in found:
        conf = d.get("deploymentConfiguration")
        if conf is None:
            findings.append(
                Finding(
                    name,
                    "describe_services returned no deploymentConfiguration: cannot confirm the "
                    "deployment circuit breaker (real ECS always returns it)",
                )
            )
            continue
        cb = conf.get("deploymentCircuitBreaker") or {}
        if not (cb.get("enable") and cb.get("rollback")):
            findings.append(
                Finding(
                    name,
                    f"deployment circuit breaker enable={cb.get('enable', False)} "
                    f"rollback={cb.get('rollback', False)}, expected both true",
                )
            )
    return findings


def find_tasks_on_current_definition(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    found, findings = _services(snap, s)
    tasks = snap.need("ecs.tasks")
    for svc, name, d in found:
        current = d.get("taskDefinition")
        for t in _running(tasks.get(svc)):
            if t.get("taskDefinitionArn") != current:
                findings.append(
                    Finding(
                        name,
                        f"task {_short(t['taskArn'])} runs {_short(t.get('taskDefinitionArn'))}, "
                        f"not the service's {_short(current)} (old revision still running)",
                    )
                )
    return findings


def _running(tasks: dict | None) -> list[dict]:
    return [t for t in (tasks or {}).get("running", []) if t.get("lastStatus") not in ("STOPPED", "DEPROVISIONING", "STOPPING")]


def _short(arn: str | None) -> str:
    return (arn or "?").rsplit("/", 1)[-1]


def find_no_recent_bad_stops(snap: Snapshot, s: AwsSettings, now: datetime | None = None) -> list[Finding]:
    """No task stopped within the window for failing ELB health checks, an essential container
    exit, or failing to start at all (stopCode TaskFailedToStart: CannotPullContainerError,
    ResourceInitializationError — a bad image or a missing secret)."""
    found, findings = _services(snap, s)
    tasks = snap.need("ecs.tasks")
    since = (now or datetime.now(UTC)) - timedelta(minutes=s.stopped_window_minutes)
    for svc, name, _ in found:
        for t in (tasks.get(svc) or {}).get("stopped", []):
            stopped_at = t.get("stoppedAt") or t.get("stoppingAt")
            if stopped_at is not None and stopped_at.tzinfo is None:
                stopped_at = stopped_at.replace(tzinfo=UTC)
            if stopped_at is not None and stopped_at < since:
                continue  # unknown time counts as recent: ECS keeps STOPPED tasks for about an hour
            reason = t.get("stoppedReason") or ""
            exited = [c for c in t.get("containers", []) if c.get("exitCode") not in (None, 0)]
            if "ELB health checks" in reason or "Essential container" in reason or t.get("stopCode") in BAD_STOP_CODES:
                detail = "; ".join(f"{c.get('name')} exit {c.get('exitCode')} {c.get('reason', '')}".strip() for c in exited)
                when = stopped_at.isoformat(timespec="seconds") if stopped_at else "recently"
                logged = last_error(snap, svc, t)
                findings.append(
                    Finding(
                        name,
                        f"task {_short(t['taskArn'])} stopped {when}: {reason}"
                        + (f" ({detail})" if detail else "")
                        + (f"; its log: {logged}" if logged else ""),
                    )
                )
    return findings


def find_fargate_sizes(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    found, findings = _services(snap, s)
    taskdefs = snap.need("ecs.taskdefs")
    for svc, name, _ in found:
        td = taskdefs.get(svc) or {}
        if isinstance(td, str):
            findings.append(Finding(name, td))
            continue
        problem = fargate.problem(td.get("cpu"), td.get("memory"))
        if problem:
            findings.append(Finding(f"task definition {td.get('family')}:{td.get('revision')} ({name})", problem))
    return findings


def find_grace_period(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Services behind the ALB have a health-check grace period of at least the rule in
    lgtm_smoke/data/fargate.json (seed: 0 s → ELB health-check kills, restart loop)."""
    found, findings = _services(snap, s)
    for _, name, d in found:
        if not d.get("loadBalancers"):
            continue
        problem = fargate.grace_problem(d.get("healthCheckGracePeriodSeconds"))
        if problem:
            findings.append(Finding(name, problem))
    return findings


def find_running_image(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Running containers use the expected image (tag/digest when given, else the task definition's)."""
    found, findings = _services(snap, s)
    tasks, taskdefs = snap.need("ecs.tasks"), snap.need("ecs.taskdefs")
    for svc, name, _ in found:
        td = taskdefs.get(svc) or {}
        if isinstance(td, str):
            findings.append(Finding(name, td))
            continue
        wanted_tag, wanted_digest = s.expected_image(svc)
        images = {c["name"]: c.get("image", "") for c in td.get("containerDefinitions", [])}
        running = _running(tasks.get(svc))
        if (wanted_tag or wanted_digest) and not running:
            findings.append(Finding(name, "no RUNNING task to read the image from"))
        for t in running:
            for c in t.get("containers", []):
                image = c.get("image") or images.get(c.get("name"), "")
                tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"
                where = f"task {_short(t['taskArn'])} container {c.get('name')}"
                if wanted_tag and tag != wanted_tag:
                    findings.append(Finding(name, f"{where} runs {image}, expected tag {wanted_tag}"))
                elif wanted_digest and c.get("imageDigest") != wanted_digest:
                    findings.append(
                        Finding(name, f"{where} runs digest {c.get('imageDigest') or 'unknown'}, expected {wanted_digest}")
                    )
                elif not (wanted_tag or wanted_digest) and c.get("name") in images and image != images[c["name"]]:
                    findings.append(Finding(name, f"{where} runs {image}, task definition says {images[c['name']]}"))
    return findings


def stop_timeout(td: dict) -> int:
    """The longest essential container stopTimeout of a task definition (Fargate default 30 s)."""
    values = [
        c.get("stopTimeout") or DEFAULT_STOP_TIMEOUT for c in td.get("containerDefinitions", []) if c.get("essential", True)
    ]
    return max(values or [DEFAULT_STOP_TIMEOUT])


def environment(td: dict) -> dict[str, str]:
    env: dict[str, str] = {}
    for c in td.get("containerDefinitions", []):
        env.update({e["name"]: e.get("value", "") for e in c.get("environment", [])})
    return env


# --- the checks (ids are the runbook keys in docs/runbook.md) ------------------------------
cluster_and_services_active = aws_check("aws.ecs.cluster_and_services_active", find_cluster_and_services_active)
running_equals_desired = aws_check("aws.ecs.running_equals_desired", find_running_equals_desired)
deployment_settled = aws_check("aws.ecs.deployment_settled", find_deployment_settled)
last_deployment_succeeded = aws_check("aws.ecs.last_deployment_succeeded", find_last_deployment_succeeded)
circuit_breaker = aws_check("aws.ecs.circuit_breaker", find_circuit_breaker)
tasks_on_current_definition = aws_check("aws.ecs.tasks_on_current_definition", find_tasks_on_current_definition)
no_recent_bad_stops = aws_check("aws.ecs.no_recent_bad_stops", find_no_recent_bad_stops)
fargate_sizes = aws_check("aws.ecs.fargate_sizes", find_fargate_sizes)
grace_period = aws_check("aws.ecs.grace_period", find_grace_period)
running_image = aws_check("aws.ecs.running_image", find_running_image)
