"""Valid Fargate task cpu/memory combinations (lgtm_smoke/data/fargate.json): ECS rejects any
other pair at deploy time ("No Fargate configuration exists for given values"), so a task
definition outside the table means the last deploy of that service did not go out."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def table() -> dict[int, tuple[int, ...]]:
    data = json.loads((resources.files("lgtm_smoke") / "data" / "fargate.json").read_text())
    return {int(cpu): tuple(mem) for cpu, mem in data["combinations"].items()}


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
