"""Which ECS service a check's verdict belongs to, and the run's verdict per service: how
many of each service's checks failed. That count is what `--publish-cloudwatch` puts into
CloudWatch and what each service's deploy alarm (infra/terraform/modules/ecs/alarms.tf)
watches, so ECS rolls back exactly the service at fault.

Attribution comes from what a check already carries, never from a hand list:

- its area (the backend folder it lives in: `loki.push_json` → loki, `alloy.*` → alloy);
- its `needs`: `grafana.login` means the check goes through Grafana (the backend's datasource,
  its proxy), so it exercises *Grafana's* configuration and reads its area's backend;
  `target_group.<tg>` names the backend whose data it reads (routes.json maps the target group
  to its ECS service: tempo-otlp → tempo).

A check whose area is no ECS service (the ALB's rules and edge auth, the AWS checks on S3,
IAM, ElastiCache, Cloud Map, ECS itself) belongs to none: its failure is "infra", which a
rollback cannot mend. A failed check that reads through another service counts against that
service when that service's own checks failed too (the data was never there: Loki broken
fails Grafana's read of Loki as well), against its own service only when every service it
reads through passed its own checks (Grafana's datasource lost its tenant header while Loki
answers directly), and against none when one of them could not be checked (Loki down: its
checks are blocked, and Grafana's datasource health fails for Loki's sake, not Grafana's). A
service none of whose checks ran (all blocked by a precondition, or not selected) is not
counted at all: missing data never rolls back.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:
    from ..outcome import Check

# The stack's ECS services (lgtm_smoke.aws.settings.DEFAULT_SERVICES names the same six).
SERVICES = ("grafana", "mimir", "loki", "tempo", "pyroscope", "alloy")
GRAFANA_LOGIN = "grafana.login"  # the precondition of every check that goes through Grafana
RAN = ("passed", "failed")  # record outcomes that proved something about a service
FAILED = "failed"
INFRA_LINE = "infra: not rolled back, revert the change"


@dataclass(frozen=True)
class Attribution:
    service: str | None  # the ECS service whose deployment this check proves; None: shared infrastructure
    reads: frozenset[str] = frozenset()  # other services its data passes through


@functools.cache
def _target_group_services() -> dict[str, str]:
    from ..data import routes

    return {tg: str(spec.get("service", tg)) for tg, spec in routes.load().target_groups.items()}


def attribute(check: "Check") -> Attribution:
    """The service `check` belongs to, from its area and its needs."""
    if check.area not in SERVICES:
        return Attribution(None)
    if GRAFANA_LOGIN in check.needs and check.area != "grafana":
        return Attribution("grafana", frozenset({check.area}))  # Grafana's datasource/proxy for that backend
    groups = _target_group_services()
    reads = {groups.get(n.split(".", 1)[1], n.split(".", 1)[1]) for n in check.needs if n.startswith("target_group.")}
    return Attribution(check.area, frozenset(s for s in reads if s in SERVICES and s != check.area))


@dataclass
class ServiceVerdict:
    """The run's verdict per ECS service."""

    failed: dict[str, int] = field(default_factory=dict)  # service -> failed checks; only services a check ran for
    unchecked: dict[str, str] = field(default_factory=dict)  # service -> why nothing is published for it
    infra: list[str] = field(default_factory=list)  # failed checks on shared infrastructure (no service)
    unattributed: list[str] = field(default_factory=list)  # failed, but what they read through was not checked

    def lines(self) -> list[str]:
        """One line per service, then the infra failures: what the job summary shows."""
        out = []
        for svc in SERVICES:
            if svc in self.failed:
                n = self.failed[svc]
                out.append(f"{svc}: {n} failed check{'s' if n != 1 else ''}" if n else f"{svc}: healthy (0 failed)")
            elif svc in self.unchecked:
                out.append(f"{svc}: not checked ({self.unchecked[svc]}): nothing published")
        if self.infra:
            shown = ", ".join(self.infra[:6]) + (f" (+{len(self.infra) - 6} more)" if len(self.infra) > 6 else "")
            out.append(f"{INFRA_LINE}: {shown}")
        if self.unattributed:
            out.append(f"not attributed (no rollback): {'; '.join(self.unattributed[:4])}"
                       + (f" (+{len(self.unattributed) - 4} more)" if len(self.unattributed) > 4 else ""))
        return out


def tally(records: Iterable[Any], checks: Mapping[str, "Check"], services: Iterable[str] = SERVICES) -> ServiceVerdict:
    """The verdict per service of a run's `records` (verdict.report.CheckRecord: `probe` is the
    check id, looked up in `checks`). Outcomes other than passed and failed (blocked, skipped,
    a suite error) prove nothing about the service."""
    rows = [(attribute(checks[r.probe]), r) for r in records if r.probe in checks]
    wanted = set(services)
    direct = [(a.service, r.outcome) for a, r in rows if a.service and not a.reads and r.outcome in RAN]
    broken = {svc for svc, outcome in direct if outcome == FAILED}
    healthy = {svc for svc, outcome in direct if outcome != FAILED} - broken  # proven by its own checks
    verdict = ServiceVerdict()
    why_not: dict[str, str] = {}
    for a, r in rows:
        if a.service is None:
            if r.outcome == FAILED:
                verdict.infra.append(r.name)
            continue
        if a.service not in wanted:
            continue
        if r.outcome not in RAN:
            why_not.setdefault(a.service, f"blocked by {r.blocked_by}" if r.blocked_by else r.outcome)
            continue
        verdict.failed.setdefault(a.service, 0)
        if r.outcome != FAILED:
            continue
        if a.reads & broken:  # the data it reads was broken at its source
            for svc in sorted(a.reads & broken):
                verdict.failed[svc] = verdict.failed.get(svc, 0) + 1
        elif a.reads <= healthy:
            verdict.failed[a.service] += 1
        else:  # what it reads through could not be checked: nobody's fault we can name
            unproven = ", ".join(sorted(a.reads - healthy))
            verdict.unattributed.append(f"{r.name} (reads {unproven}, which this run could not check)")
    for svc in SERVICES:
        if svc in wanted and svc not in verdict.failed:
            verdict.unchecked[svc] = why_not.get(svc, "no check of it selected")
    return verdict
