"""How a deployment ended, per ECS service: the gate's second half (docs/infra.md "Rollback
timing"). After a red verdict published during the deployment, ECS fails the deployment whose
alarm went to ALARM and rolls the service back; this waits (bounded) until every service
deployment started since the deploy is out of its ongoing states, then says per service what
happened: SUCCESSFUL, or rolled back from which task definition to which, and by whom (the
ECS deployment alarm, the circuit breaker, or someone else: the workflow or a person).

    python -m lgtm_smoke.aws.rollout --cluster lgtm-prod-cluster --services loki,mimir \\
        --since 1765000000 --timeout 900 [--summary-md PATH]
    python -m lgtm_smoke.aws.rollout --until running ...   # first: until the new tasks run

Read-only: ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions (the
smoke role's). Exit code: 0 every deployment SUCCESSFUL (or none started), 1 one was rolled
back, stopped, or is still going at the deadline, 4 usage error (one line).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Callable

# ServiceDeploymentStatus (botocore model); the ECS guide groups them as "ongoing" and "completed".
ONGOING = ("PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
ROLLED_BACK = ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
POLL_S = 15.0


@dataclass
class Ending:
    service: str
    status: str  # a ServiceDeploymentStatus, "NONE" (no deployment since), or "TIMEOUT:<status>"
    deployed: str = ""  # the task definition the deployment rolled out (family:revision)
    restored: str = ""  # the task definition a rollback returned to
    by: str = ""  # who rolled back
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("SUCCESSFUL", "NONE")

    def line(self) -> str:
        if self.status == "NONE":
            return f"{self.service}: no deployment since the deploy started"
        if self.status.startswith("TIMEOUT:"):
            return f"{self.service}: still {self.status.split(':', 1)[1]} at the deadline ({self.deployed})"
        if self.status == "SUCCESSFUL":
            return f"{self.service}: SUCCESSFUL, now on {self.deployed}"
        if self.status in ROLLED_BACK:
            return (f"{self.service}: {self.status}: rolled back from {self.deployed} to {self.restored or '?'} "
                    f"by {self.by}" + (f" ({self.reason})" if self.reason else ""))
        return f"{self.service}: {self.status} ({self.deployed})" + (f": {self.reason}" if self.reason else "")


def _taskdef(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""


def who(deployment: dict[str, Any]) -> str:
    """Who rolled `deployment` back, from what ECS recorded on it."""
    alarms = deployment.get("alarms") or {}
    if alarms.get("status") == "TRIGGERED":
        return "ECS deployment alarm " + ", ".join(alarms.get("triggeredAlarmNames") or alarms.get("alarmNames") or [])
    if (deployment.get("deploymentCircuitBreaker") or {}).get("status") == "TRIGGERED":
        return "ECS deployment circuit breaker"
    return "a StopServiceDeployment(ROLLBACK) call (the workflow or a person)"


def latest_since(ecs: Any, cluster: str, service: str, since: datetime) -> dict[str, Any] | None:
    """The newest service deployment of `service` created at or after `since`, described."""
    briefs = ecs.list_service_deployments(cluster=cluster, service=service,
                                          createdAt={"after": since})["serviceDeployments"]
    briefs = [b for b in briefs if _aware(b.get("createdAt") or b.get("startedAt")) >= since]
    if not briefs:
        return None
    newest = max(briefs, key=lambda b: _aware(b.get("createdAt") or b.get("startedAt")))
    found = ecs.describe_service_deployments(serviceDeploymentArns=[newest["serviceDeploymentArn"]])
    return found["serviceDeployments"][0] if found["serviceDeployments"] else None


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value or 0), UTC)


def ending(ecs: Any, service: str, deployment: dict[str, Any] | None, timed_out: bool = False) -> Ending:
    if deployment is None:
        return Ending(service, "NONE")
    status = deployment["status"]
    target = deployment.get("targetServiceRevision", {}).get("arn", "")
    restored_rev = (deployment.get("rollback") or {}).get("serviceRevisionArn", "")
    wanted = [a for a in (target, restored_rev) if a]
    revisions = {r["serviceRevisionArn"]: r for r in
                 ecs.describe_service_revisions(serviceRevisionArns=wanted)["serviceRevisions"]} if wanted else {}
    deployed = _taskdef(revisions.get(target, {}).get("taskDefinition", "")) or target
    restored = _taskdef(revisions.get(restored_rev, {}).get("taskDefinition", "")) if restored_rev else ""
    if timed_out:
        return Ending(service, f"TIMEOUT:{status}", deployed)
    by = who(deployment) if status in ROLLED_BACK else ""
    return Ending(service, status, deployed, restored, by, deployment.get("statusReason", ""))


def _each_until(services: list[str], look: Callable[[str], Any], timeout: float, poll: float,
                clock: Callable[[], float], sleep: Callable[[float], None]) -> dict[str, Any]:
    """Ask `look(service)` for each service until it answers (not None) or `timeout` s passed."""
    deadline = clock() + timeout
    done: dict[str, Any] = {}
    while True:
        for svc in services:
            if svc not in done and (got := look(svc)) is not None:
                done[svc] = got
        if len(done) == len(services) or clock() >= deadline:
            return done
        sleep(poll)


def settle(ecs: Any, cluster: str, services: list[str], since: datetime, timeout: float, poll: float = POLL_S,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> list[Ending]:
    """Wait (at most `timeout` s) until each service's deployment since `since` has ended."""

    def ended(svc: str) -> Ending | None:
        dep = latest_since(ecs, cluster, svc, since)
        return ending(ecs, svc, dep) if dep is None or dep["status"] not in ONGOING else None

    done = _each_until(services, ended, timeout, poll, clock, sleep)
    return [done.get(svc) or ending(ecs, svc, latest_since(ecs, cluster, svc, since), timed_out=True)
            for svc in services]


def running(ecs: Any, cluster: str, services: list[str], since: datetime, timeout: float, poll: float = POLL_S,
            clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Wait (at most `timeout` s) until each service's deployment since `since` runs all its new
    tasks (or has already ended): from then on ECS watches its alarm, so the gate's verdict lands
    inside the window in which a red one rolls the service back. One line per service."""

    def up(svc: str) -> str | None:
        dep = latest_since(ecs, cluster, svc, since)
        if dep is None:
            return f"{svc}: no deployment since the deploy started"
        target = dep.get("targetServiceRevision") or {}
        n, wanted = int(target.get("runningTaskCount", 0)), int(target.get("requestedTaskCount", 0))
        if dep["status"] not in ONGOING:
            return f"{svc}: deployment already {dep['status']}"
        if dep["status"] == "IN_PROGRESS" and n >= wanted:
            return f"{svc}: IN_PROGRESS, {n}/{wanted} new tasks running: its alarm is watched from now"
        return None

    done = _each_until(services, up, timeout, poll, clock, sleep)
    return [done.get(svc, f"{svc}: new tasks still starting at the deadline") for svc in services]


def markdown(endings: list[Ending]) -> str:
    head = "✅ every deployment SUCCESSFUL" if all(e.ok for e in endings) else "❌ the deploy did not go through"
    return "\n".join(["", f"### Deployments — {head}", "", *(f"- {e.line()}" for e in endings), ""]) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lgtm_smoke.aws.rollout", description=__doc__.split("\n\n")[0])
    p.add_argument("--until", choices=("ended", "running"), default="ended",
                   help="ended: how each deployment ended (default); running: until the new tasks run")
    p.add_argument("--cluster", required=True)
    p.add_argument("--services", required=True, help="comma list of ECS service names")
    p.add_argument("--since", required=True, help="when the deploy started: epoch seconds")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the deployments to end")
    p.add_argument("--poll", type=float, default=POLL_S, help=argparse.SUPPRESS)
    p.add_argument("--summary-md", help="append the per-service lines as Markdown here (also to $GITHUB_STEP_SUMMARY "
                                        "when set, as the suite does)")
    p.add_argument("--region")
    p.add_argument("--endpoint-url", help="send the ECS calls here (e.g. a moto server)")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return 4 if e.code else 0
    try:
        since = datetime.fromtimestamp(float(args.since), UTC)
    except ValueError:
        print(f"rollout: --since {args.since!r} is not epoch seconds, e.g. --since $(date +%s)", file=sys.stderr)
        return 4
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    import boto3

    from .errors import describe_error

    ecs = boto3.session.Session(region_name=args.region).client("ecs", endpoint_url=args.endpoint_url)
    try:
        if args.until == "running":
            lines = running(ecs, args.cluster, services, since, args.timeout, args.poll)
            print("\n".join(lines))
            return 1 if any(line.endswith("at the deadline") for line in lines) else 0
        endings = settle(ecs, args.cluster, services, since, args.timeout, args.poll)
    except Exception as e:  # noqa: BLE001 - one line a person acts on, never a traceback
        print(f"rollout: {describe_error(e, f'reading the service deployments of {args.cluster}')}", file=sys.stderr)
        return 1
    for e in endings:
        print(e.line())
    import os

    for path in dict.fromkeys(p for p in (args.summary_md, os.environ.get("GITHUB_STEP_SUMMARY")) if p):
        with open(path, "a", encoding="utf-8") as f:
            f.write(markdown(endings))
    return 0 if all(e.ok for e in endings) else 1


if __name__ == "__main__":
    sys.exit(main())
