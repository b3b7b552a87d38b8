"""The AWS half of the suite: discover the stack's resources, fetch what the checks need once
(concurrently, at collection time), then run cheap pure checks over that snapshot.

Layout: `discovery.py` (settings + the one fetch), one module per area (`ecs`, `alb`, `s3`,
`elasticache`, `cloudmap`, `fargate`) holding `fetch_<area>(...)` and pure
`check_<x>(snapshot, expectations) -> list[Finding]`, `fixtures.py` (pytest hooks and the
`aws_settings` / `aws_snapshot` / `aws_check` fixtures).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    reason instead, and `need(key)` turns it into `Missing` for exactly the checks that read it."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    calls: int = 0

    def put(self, key: str, value: Any) -> None:
        self.values[key] = value

    def fail(self, key: str, reason: str) -> None:
        self.errors[key] = reason

    def need(self, key: str) -> Any:
        parts = key.split(".")
        for i in range(1, len(parts) + 1):  # "s3" failing explains "s3.data.root" too
            if ".".join(parts[:i]) in self.errors:
                raise Missing(self.errors[".".join(parts[:i])])
        if key not in self.values:
            raise Missing(f"{key} was not fetched (AWS snapshot incomplete)")
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)
