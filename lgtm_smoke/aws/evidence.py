"""A failing backend's AWS side, beside its failure: target health with its reason code, the
last ECS service events, the last stopped task's `stoppedReason` and exit code, and the last
error lines of its CloudWatch log stream — bounded in count and bytes, secrets redacted.

    lines = Evidence(snapshot, settings).lines("mimir")   # or fixtures.evidence_for(config, "mimir")

Everything but the log lines comes from the run's one AWS snapshot (no extra call); the log
lines are one `logs:GetLogEvents` per backend (the newest `LOG_EVENTS` of the stream of its
last stopped task, else of a running one), read once and cached.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import Any

from .errors import code_of
from .snapshot import Missing, Snapshot

EVENTS = 3  # last ECS service events shown
LOG_EVENTS = 50  # newest log events read from the stream
LOG_LINES = 5  # error lines shown
LINE_BYTES = 300  # each line cut to this
LOG_BYTES = 1500  # all log lines together
ERROR = re.compile(
    r"level=(error|fatal|crit|warn)|\b(error|err|failed|failure|panic|fatal|exception|no such host|"
    r"refused|timeout|sigterm|killed)\b",
    re.IGNORECASE,
)
SECRET_ENV = ("LGTM_EDGE_SECRET", "LGTM_GRAFANA_PASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
PATTERNS = (
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "<redacted access key>"),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|x-lgtm-edge-secret)"
            r"(\"?\s*[=:]\s*\"?)(bearer\s+|basic\s+)?[^\s\",;&]+"
        ),
        r"\1\2<redacted>",
    ),
    (re.compile(r"(?i)(://[^/\s:@]+:)[^@\s/]+@"), r"\1<redacted>@"),
)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with every known secret value and every credential-looking value replaced."""
    for value in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(value, "<redacted>")
    for pattern, repl in PATTERNS:
        text = pattern.sub(repl, text)
    return text


def known_secrets() -> tuple[str, ...]:
    return tuple(v for v in (os.environ.get(k) for k in SECRET_ENV) if v)


def cut(line: str, limit: int = LINE_BYTES) -> str:
    raw = line.strip().encode()
    return line.strip() if len(raw) <= limit else raw[: limit - 3].decode(errors="ignore") + "..."


def error_lines(messages: list[str], secrets: tuple[str, ...] = ()) -> list[str]:
    """The last LOG_LINES error-looking lines, each ≤ LINE_BYTES, all ≤ LOG_BYTES, redacted."""
    picked = [m for m in messages if ERROR.search(m)][-LOG_LINES:]
    out, total = [], 0
    for m in reversed(picked):  # keep the newest when the byte budget runs out
        line = cut(redact(" ".join(m.split()), secrets))
        if total + len(line.encode()) > LOG_BYTES:
            break
        out.insert(0, line)
        total += len(line.encode())
    return out


def log_stream(taskdef: dict, task: dict) -> tuple[str, str] | None:
    """(group, stream) the awslogs driver writes `task` to: <prefix>/<container>/<task id>."""
    for c in taskdef.get("containerDefinitions", []):
        conf = c.get("logConfiguration") or {}
        opts = conf.get("options") or {}
        if conf.get("logDriver") == "awslogs" and opts.get("awslogs-group") and c.get("essential", True):
            prefix = opts.get("awslogs-stream-prefix")
            task_id = task.get("taskArn", "").rsplit("/", 1)[-1]
            return opts["awslogs-group"], f"{prefix}/{c['name']}/{task_id}" if prefix else task_id
    return None


def last_error(snap: Snapshot, svc: str, task: dict) -> str:
    """The newest error line of `task`'s log stream, when the fetch read it ("" otherwise)."""
    reader, taskdef = snap.get("logs.reader"), (snap.get("ecs.taskdefs") or {}).get(svc)
    where = log_stream(taskdef, task) if isinstance(taskdef, dict) else None
    if reader is None or where is None:
        return ""
    try:
        found = error_lines(reader.read(*where), known_secrets())
    except Missing:
        return ""
    return found[-1] if found else ""


def newest_stopped(tasks: dict) -> dict | None:
    stopped = (tasks or {}).get("stopped", [])
    return max(stopped, key=lambda t: str(t.get("stoppedAt") or t.get("stoppingAt") or "")) if stopped else None


class LogReader:
    """GetLogEvents, newest first, once per stream (thread-safe cache). `read(group, stream)`
    returns the messages oldest first, or raises with the one line the fetch would store."""

    def __init__(self, client, describe: Callable[[BaseException, str], str]):
        self.client, self.describe = client, describe
        self.cache: dict[tuple[str, str], list[str] | str] = {}
        self.lock = threading.Lock()

    def read(self, group: str, stream: str) -> list[str]:
        key = (group, stream)
        with self.lock:
            if key not in self.cache:
                try:
                    events = self.client.get_log_events(
                        logGroupName=group, logStreamName=stream, startFromHead=False, limit=LOG_EVENTS
                    )["events"]
                    self.cache[key] = [e.get("message", "") for e in events]
                except Exception as e:  # noqa: BLE001 - the evidence says why it has no log lines
                    if code_of(e) == "ResourceNotFoundException":  # a task that never started writes no stream
                        self.cache[key] = []
                    else:
                        self.cache[key] = Missing(self.describe(e, f"reading log stream {group} {stream}"))
            value = self.cache[key]
        if isinstance(value, Missing):
            raise value
        return value

    def prefetch(self, group: str, stream: str) -> None:
        """Read into the cache now (during the fetch); a failure is kept for whoever reads it."""
        try:
            self.read(group, stream)
        except Missing:
            pass


class Evidence:
    """The AWS side of each backend, from one snapshot (and its log reader)."""

    def __init__(self, snapshot: Snapshot, settings: Any):
        self.snapshot, self.settings = snapshot, settings

    def lines(self, backend: str) -> list[str]:
        """Evidence lines for `backend` (an ECS service short name: mimir, loki, ...); [] when
        AWS was not reachable (the AWS checks say why) or nothing is known of it."""
        snap = self.snapshot
        if snap.blocked:
            return []
        out = self._target_health(backend)
        service = (snap.get("ecs.services") or {}).get(backend)
        if service:
            name = service["serviceName"]
            for e in (service.get("events") or [])[:EVENTS]:
                when = e.get("createdAt")
                stamp = when.isoformat(timespec="seconds") if hasattr(when, "isoformat") else str(when or "")
                out.append(cut(f"ECS service {name} event {stamp}: {e.get('message', '')}".replace("  ", " ")))
        tasks = (snap.get("ecs.tasks") or {}).get(backend) or {}
        stopped = newest_stopped(tasks)
        if stopped:
            exits = ", ".join(
                f"{c.get('name')} exit {c.get('exitCode')}"
                for c in stopped.get("containers", [])
                if c.get("exitCode") is not None
            )
            code = stopped.get("stopCode")
            out.append(
                cut(
                    f"last stopped task {_short(stopped['taskArn'])} ({_short(stopped.get('taskDefinitionArn'))}): "
                    f"{stopped.get('stoppedReason') or '?'}" + (f" [{code}]" if code else "") + (f" ({exits})" if exits else "")
                )
            )
        out += self.log_lines(backend)
        return out

    def _target_health(self, backend: str) -> list[str]:
        snap, out = self.snapshot, []
        groups = snap.get("alb.target_groups") or {}
        health = snap.get("alb.health") or {}
        for key, conf in self.settings.routes.target_groups.items():
            tg = groups.get(key)
            if conf.get("service") != backend or not tg:
                continue
            descs = health.get(tg["TargetGroupArn"])
            if isinstance(descs, str) or descs is None:
                out.append(cut(f"target group {tg['TargetGroupName']}: {descs or 'target health not read'}"))
                continue
            states = (
                "; ".join(
                    f"{d['Target']['Id']}:{d['Target'].get('Port')} {d['TargetHealth']['State']}"
                    + (
                        f" ({d['TargetHealth']['Reason']}: {d['TargetHealth'].get('Description', '')})".replace(": )", ")")
                        if d["TargetHealth"].get("Reason")
                        else ""
                    )
                    for d in descs
                )
                or "no targets registered"
            )
            out.append(cut(f"target group {tg['TargetGroupName']}: {states}", 2 * LINE_BYTES))
        return out

    def log_lines(self, backend: str) -> list[str]:
        """The last error lines of the backend's log stream: its last stopped task's, else a running one's."""
        snap = self.snapshot
        reader: LogReader | None = snap.get("logs.reader")
        taskdef = (snap.get("ecs.taskdefs") or {}).get(backend)
        tasks = (snap.get("ecs.tasks") or {}).get(backend) or {}
        task = newest_stopped(tasks) or next(iter(tasks.get("running", [])), None)
        if reader is None or not isinstance(taskdef, dict) or task is None:
            return []
        where = log_stream(taskdef, task)
        if where is None:
            return []
        try:
            messages = reader.read(*where)
        except Missing as e:
            return [cut(f"log {where[0]}: {e}")]
        found = error_lines(messages, known_secrets())
        if not messages:
            return [f"log {where[0]} {where[1]}: no log stream (the task never started its container)"]
        if not found:
            return [f"log {where[0]} {where[1]}: no error lines in its last {len(messages)} events"]
        return [f"log {where[0]} {where[1]}: {line}" for line in found]


def _short(arn: str | None) -> str:
    return (arn or "?").rsplit("/", 1)[-1]
