"""Valid Fargate task cpu/memory combinations and the health-check grace rule
(lgtm_smoke/data/fargate.json, the schema preflight reads too): ECS rejects any other pair at
deploy time ("No Fargate configuration exists for given values"), so a task definition outside
the table means the last deploy of that service did not go out."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def data() -> dict:
    return json.loads((resources.files("lgtm_smoke") / "data" / "fargate.json").read_text())


@lru_cache(maxsize=1)
def table() -> dict[int, tuple[int, ...]]:
    rows = data()["cpu_memory"]
    return {int(cpu): tuple(row.get("values") or range(row["min"], row["max"] + 1, row["step"])) for cpu, row in rows.items()}


def min_grace_seconds() -> int:
    return int(data()["min_health_check_grace_period_seconds"])


def problem(cpu, memory) -> str | None:
    """None when (cpu, memory) is a valid Fargate task size, else one line saying why not."""
    try:
        c, m = int(str(cpu)), int(str(memory))
    except (TypeError, ValueError):
        return f"task cpu {cpu!r} / memory {memory!r} must both be set at task level for Fargate"
    valid = table()
    if c not in valid:
        return f"cpu {c} is not a Fargate size (valid: {', '.join(map(str, valid))})"
    if m not in valid[c]:
        allowed = valid[c]
        return f"cpu {c} / memory {m} is not a valid Fargate combination (cpu {c} allows {allowed[0]}–{allowed[-1]}: {', '.join(map(str, allowed))})"
    return None


def grace_problem(grace) -> str | None:
    """None when a load-balanced service's healthCheckGracePeriodSeconds meets the rule."""
    floor = min_grace_seconds()
    if grace is None or grace < floor:
        shown = grace if grace is not None else "unset (0)"
        return (f"healthCheckGracePeriodSeconds {shown}, expected ≥ {floor} for a service behind the ALB "
                "(ELB health checks kill tasks still starting: restart loop)")
    return None
