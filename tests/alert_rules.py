"""The canary's shipped alert rules (infra/images/mimir/rules/) as the project's tests use them: promtool,
and the same rules with every duration scaled by one factor so a real Prometheus fires them in
seconds instead of minutes."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "infra/images/mimir/rules/lgtm-smoke-canary.yaml"
CANARY_INTERVAL_S = 300  # what the rules' windows are written for (terraform canary_interval_minutes = 5)

_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# a duration in a range selector, or as the value of `for:` / a group's `interval:`
_DURATION = re.compile(r"(\[|\bfor: |\binterval: )(\d+)([smhd])(?=[\]\s])")


def promtool(*args: str | Path) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool") or "/usr/bin/promtool"
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, timeout=120)


def scaled(text: str, factor: float) -> str:
    """`text` (a rule file) with every duration multiplied by `factor`, in milliseconds."""
    def one(m: re.Match) -> str:
        return f"{m.group(1)}{round(int(m.group(2)) * _UNIT_S[m.group(3)] * factor * 1000)}ms"

    out = _DURATION.sub(one, text)
    left = re.findall(r"\[[^\]]*\d[smhdwy]\]", out)
    assert not left, f"durations the scaler does not understand (write one unit per duration): {left}"
    return out
