"""The one check shape, shared by every room: HTTP probes (backends/*), AWS checks (aws/*)
and preflight checks (infra/preflight).

A check is a `Check`: an id (`"<area>.<name>"`), the area (room) it belongs to, a function,
the preconditions it needs, and the key of its runbook entry. Its function either returns
evidence (a dict the test may assert on) or raises one of the failure vocabulary below:

- `CheckFailed(cause, evidence=[...])`: the check ran and what it checks is broken. `cause`
  is ONE line a person acts on (what, where, expected vs. received, likely cause);
  `evidence` are further lines (exchanges, AWS facts, file:line), each one line.
- `Blocked(precondition, cause)`: the check could not run because something it needs (the
  ALB answering, a target group, AWS credentials, the Grafana login) is broken. The verdict
  counts it under that precondition's root cause, not as a failure of its own.
- `NotWaited(cause)`: the check was still waiting for its data when the verdict turned red
  (another check failed); it stops there and is reported skipped, so a broken stack is
  reported in seconds, not after the slowest backend's lag (`--wait-all` waits anyway).

Whatever ran, the runner turns it into one `Outcome`; the verdict (terminal, JSON, JUnit,
Markdown) reads only `Outcome`s. This module imports nothing but the standard library, so
every layer may use it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable


class Status(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    BLOCKED = "blocked"  # a precondition failed; see Outcome.blocked_by
    SKIPPED = "skipped"


class CheckFailed(Exception):
    """What a check checks is broken. `cause`: one line; `evidence`: more lines."""

    def __init__(self, cause: str, evidence: Iterable[str] | str = (), runbook: str | None = None):
        super().__init__(cause)
        self.cause = cause.strip().splitlines()[0] if cause.strip() else cause
        if isinstance(evidence, str):
            evidence = [line for line in evidence.splitlines() if line.strip()]
        self.evidence = list(evidence)
        self.runbook = runbook


class Blocked(Exception):
    """The check could not run: precondition `precondition` (an id such as "alb",
    "target_group.loki", "aws.credentials", "grafana.login") failed with `cause`."""

    def __init__(self, precondition: str, cause: str):
        super().__init__(f"blocked by {precondition}: {cause}")
        self.precondition = precondition
        self.cause = cause


NOT_WAITED = "not waited for"  # how a NotWaited cause begins (the verdict counts them by it)


class NotWaited(Exception):
    """The check stopped waiting for its data because the verdict was already red (another
    check failed): it is reported skipped with `cause`, neither passed nor failed."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


@dataclass(frozen=True)
class Check:
    """One check. `fn(ctx)` returns evidence or raises CheckFailed / Blocked; what `ctx` is
    depends on the kind (a probe context for "http", the AWS snapshot view for "aws", the
    infra tree for "preflight"). `needs` are precondition ids established once per run."""

    id: str
    area: str
    fn: Callable[..., Any]
    kind: str = "http"  # "http" | "aws" | "preflight"
    needs: tuple[str, ...] = ()
    runbook: str = ""  # key of the check's entry in docs/runbook.md (default: the id)
    doc: str = ""
    # Its data becomes visible only seconds after the push (Tempo's search: the ingester must
    # complete the trace), so it is the run's critical path: the runner starts it first and
    # the other checks once it has pushed.
    leads: bool = False

    @property
    def runbook_key(self) -> str:
        return self.runbook or self.id

    def __call__(self, ctx: Any) -> Any:  # a check is callable like the function it wraps
        return self.fn(ctx)


def check(id: str, area: str | None = None, **kw: Any) -> Callable[[Callable[..., Any]], Check]:
    """Decorator: `@check("loki.push_json", needs=("alb",))` above `def push_json(ctx)` makes
    `push_json` that Check (area defaults to the id's first part)."""

    def make(fn: Callable[..., Any]) -> Check:
        return Check(id, area or id.split(".", 1)[0], fn, doc=(fn.__doc__ or "").strip(), **kw)

    return make


@dataclass
class Outcome:
    """What one check did. The verdict reads only this."""

    check: str
    area: str
    status: Status
    cause: str = ""
    evidence: list[str] = field(default_factory=list)
    runbook: str = ""
    latency: float | None = None  # push sent → data visible, seconds (round-trip probes)
    duration: float = 0.0
    blocked_by: str | None = None  # precondition id when status is BLOCKED
    data: dict[str, Any] = field(default_factory=dict)  # the evidence dict a test asserts on
    push_ok: bool | None = None
    read_ok: bool | None = None

    @property
    def ok(self) -> bool:
        return self.status in (Status.PASSED, Status.SKIPPED)

    def message(self) -> str:
        return "\n".join([self.cause, *self.evidence]) if self.evidence else self.cause

    @classmethod
    def from_exception(cls, check: Check, exc: BaseException, **kw: Any) -> "Outcome":
        if isinstance(exc, Blocked):
            return cls(check.id, check.area, Status.BLOCKED, exc.cause, runbook=check.runbook_key,
                       blocked_by=exc.precondition, **kw)
        if isinstance(exc, CheckFailed):
            return cls(check.id, check.area, Status.FAILED, exc.cause, exc.evidence,
                       exc.runbook or check.runbook_key, **kw)
        if isinstance(exc, NotWaited):
            return cls(check.id, check.area, Status.SKIPPED, exc.cause, runbook=check.runbook_key, **kw)
        raise TypeError(f"not a check outcome: {type(exc).__name__}")


def run_check(check: Check, ctx: Any) -> Outcome:
    """Run one check synchronously and return its Outcome (no retry here: checks that wait
    use lgtm_smoke.retry). A non-vocabulary exception is a bug in the check and propagates."""
    import time

    t0 = time.monotonic()
    try:
        data = check.fn(ctx) or {}
    except (CheckFailed, Blocked) as e:
        return Outcome.from_exception(check, e, duration=time.monotonic() - t0)
    return Outcome(check.id, check.area, Status.PASSED, runbook=check.runbook_key, data=dict(data),
                   duration=time.monotonic() - t0)
