"""What the AWS checks read: one `Snapshot` of everything fetched, and `aws_check`, which turns
a pure finder `(snapshot, settings) -> [Finding]` into a `lgtm_smoke.outcome.Check(kind="aws")`.

A finder returns what is wrong (one `Finding` per resource and problem); the check raises
`CheckFailed(first finding, every finding)`, or `Blocked("aws.credentials", why)` when the
credentials or region are unusable for the whole area (said once, not per call), or
`CheckFailed(why)` when a fact it reads could not be fetched (`Missing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..outcome import Blocked, Check, CheckFailed

CREDENTIALS = "aws.credentials"  # the precondition id every AWS check needs


@dataclass(frozen=True)
class Finding:
    """One thing wrong with one resource: `resource` names it the way the console does."""

    resource: str
    problem: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.problem}"


class Missing(Exception):
    """A fact the check needs could not be fetched: the message is one line naming what/why."""


@dataclass
class Snapshot:
    """Everything fetched from AWS, keyed like "ecs.services"; a failed fetch stores its one-line
    reason instead, and `need(key)` turns it into `Missing` for exactly the checks that read it.
    `blocked` is set when nothing could be fetched at all (credentials, region)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    blocked: str | None = None
    seconds: float = 0.0
    calls: int = 0
    principal: str = ""  # the caller's ARN (sts:GetCallerIdentity), named in AccessDenied causes

    def put(self, key: str, value: Any) -> None:
        self.values[key] = value

    def fail(self, key: str, reason: str) -> None:
        self.errors.setdefault(key, reason)

    def need(self, key: str) -> Any:
        if self.blocked:
            raise Blocked(CREDENTIALS, self.blocked)
        parts = key.split(".")
        for i in range(1, len(parts) + 1):  # "s3" failing explains "s3.data.root" too
            if ".".join(parts[:i]) in self.errors:
                raise Missing(self.errors[".".join(parts[:i])])
        if key not in self.values:
            raise Missing(f"{key} was not fetched (AWS snapshot incomplete)")
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


@dataclass(frozen=True)
class AwsView:
    """The `ctx` of an AWS check: the run's snapshot and settings."""

    snapshot: Snapshot
    settings: Any  # lgtm_smoke.aws.settings.AwsSettings


Finder = Callable[..., list[Finding]]


def aws_check(check_id: str, finder: Finder, runbook: str = "") -> Check:
    """The Check for one finder. Its id is "aws.<area>.<name>"; its area "aws"."""

    def run(ctx: AwsView) -> dict[str, Any]:
        try:
            findings = finder(ctx.snapshot, ctx.settings)
        except Missing as e:
            raise CheckFailed(str(e)) from None
        if findings:
            head = str(findings[0]) if len(findings) == 1 else f"{findings[0]} (+{len(findings) - 1} more)"
            raise CheckFailed(head, [str(f) for f in findings] if len(findings) > 1 else [])
        return {"findings": [], "aws_calls": ctx.snapshot.calls}

    return Check(
        id=check_id,
        area="aws",
        fn=run,
        kind="aws",
        needs=(CREDENTIALS,),
        runbook=runbook,
        doc=(finder.__doc__ or "").strip(),
    )
