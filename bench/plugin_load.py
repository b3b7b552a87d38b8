#!/usr/bin/env python
"""What loading the lgtm-smoke plugin costs a pytest run that selects no smoke test.

    python bench/plugin_load.py [--runs 21]

One run: `python -m pytest -q -p no:cacheprovider test_empty.py` (one `def test_empty(): pass`,
in an empty temp dir) with the plugin (its pytest11 entry point) and with `-p no:lgtm_smoke`
(the floor), interleaved, after one untimed warm-up of each; prints both medians, the
difference (the bar: ≤ 50 ms) and the ratio, and how many modules the plugin import adds.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAR_MS = 50.0


def timed(cmd: list[str], cwd: Path, env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lgtm-plugin-load-"))
    (work / "test_empty.py").write_text("def test_empty():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LGTM_", "PYTEST_"))}
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_empty.py"]
    commands = {"with the plugin": base, "floor (-p no:lgtm_smoke)": [*base, "-p", "no:lgtm_smoke"]}
    for cmd in commands.values():
        timed(cmd, work, env)  # warm-up: page cache, .pyc
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(timed(cmd, work, env))
    med = {name: statistics.median(t) for name, t in times.items()}
    extra_ms = (med["with the plugin"] - med["floor (-p no:lgtm_smoke)"]) * 1000
    modules = subprocess.run([sys.executable, "-c", "import sys, pytest; n = len(sys.modules); import lgtm_smoke.plugin; "
                              "print(len(sys.modules) - n)"], capture_output=True, text=True, env=env).stdout.strip()
    print(f"| command | median ({args.runs} runs) |\n|---|---|")
    for name, value in med.items():
        print(f"| {name} | {value * 1000:.0f} ms |")
    print(f"| **plugin cost** | **{extra_ms:+.0f} ms** (bar ≤ {BAR_MS:.0f} ms), ratio "
          f"{med['with the plugin'] / med['floor (-p no:lgtm_smoke)']:.2f}×, +{modules} modules after pytest |")
    return 0 if extra_ms <= BAR_MS else 1


if __name__ == "__main__":
    sys.exit(main())
