#!/usr/bin/env python
"""How fast is the verdict, healthy and for every fault the reference stack knows? One run.

    python bench/verdict_speed.py [--runs 3] [--faults NAME,...]

Against one local reference stack (lgtm-refstack), with the shipped suite as a user runs it
(`python -m pytest -m "smoke and not aws" --alb <stack> …` from an empty directory), medians of
--runs repetitions after one untimed warm-up:

  floor     `python -m pytest -q -p no:cacheprovider test_empty.py` in the same environment
  healthy   the whole suite green; and healthy − the slowest backend's own visibility lag (the
            stack's Tempo search lag: the search check's trace is searchable only that long after
            its last span, 5-15 s as Tempo 2.9 with the shipped config; each run's own lag is
            subtracted from that run), shown with and without the floor: what the suite adds
            beyond bare pytest is the overhead — the bar is ≤ 0.5 s
  <fault>   time to the red verdict with that fault (bar: ≤ 3 s; slow-ingest and flaky-5xx test
            waiting and are shown aside), with the exit code and the headline; the Alloy faults
            on a fresh stack deployed broken (on a stack healthy a moment ago Alloy's last
            samples rightly stay fresh for two scrape intervals)

Prints one Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TENANT = "lgtm-smoke-bench"
RED_BAR, OVERHEAD_BAR = 3.0, 0.5
WAITING = ("slow-ingest", "flaky-5xx")  # faults that test waiting, not speed
VALUES = {"slow-ingest": "slow-ingest=5", "flaky-5xx": "flaky-5xx=100"}
# A stopped (or re-tenanted) Alloy's last samples stay fresh for two scrape intervals, so on a
# stack that was healthy a moment ago the suite rightly stays green that long: these are timed
# as deployed broken, each on a fresh stack.
FRESH_STACK = {"alloy-stopped", "alloy-wrong-tenant"}


def _is_search_trace(trace) -> bool:
    """The trace the tempo.search check pushed (span attribute lgtm_smoke.check = "search")."""
    return any(a.key == "lgtm_smoke.check" and a.value.string_value == "search"
               for _, span in trace.spans() for a in span.attributes)


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    return time.perf_counter() - t0, proc


def main() -> int:
    from lgtm_refstack.faults import KNOWN
    from lgtm_refstack.stack import ReferenceStack

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--faults", help="comma list (default: every fault the stack knows)")
    args = parser.parse_args()
    faults = [VALUES.get(f, f) for f in (args.faults.split(",") if args.faults else sorted(KNOWN))]
    work = Path(tempfile.mkdtemp(prefix="lgtm-verdict-speed-"))
    (work / "test_empty.py").write_text("def test_empty():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LGTM_", "PYTEST_")) and k != "GITHUB_STEP_SUMMARY"}
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    rows: list[tuple[str, float, str, str]] = []

    def runs(stack, n: int, after=None) -> tuple[float, str, str]:
        """`n` timed suite runs against `stack`: the median wall time, the last exit code and
        headline; `after(since, wall)` is told each run's start (time.time()) and wall time."""
        cmd = [*pytest, "-m", "smoke and not aws", "--alb", stack.url, "--tenant", TENANT, *stack.suite_args(),
               "--report-json", "report.json"]
        walls, last = [], None
        for _ in range(n):
            since = time.time()
            wall, last = timed(cmd, work, env)
            walls.append(wall)
            if after is not None:
                after(since, wall)
        report = json.loads((work / "report.json").read_text()) if (work / "report.json").exists() else {}
        return statistics.median(walls), f"exit {last.returncode}", report.get("headline", "no report")

    with ReferenceStack(tenants=(TENANT,)) as stack:
        tempo = stack.backend("tempo")

        def search_lag(since: float) -> float:
            """Tempo's own lag for the search check's trace of the run started at `since`
            (time.time()): from its last span's arrival to the moment search finds it (the
            ingester's flush tick, or the fixed lag)."""
            traces = [t for t in tempo.store.all(lambda tenant: tenant == TENANT)
                      if t.last_arrival >= since and _is_search_trace(t)]
            return max((tempo.lag.searchable_at(t.last_arrival) - t.last_arrival for t in traces), default=0.0)

        beyond_lag: list[float] = []  # each healthy run's wall time minus its own Tempo search lag
        lags: list[float] = []

        def note_lag(since: float, wall: float) -> None:
            """Tempo's lag differs per run (its flush tick): each healthy run's own is subtracted."""
            lags.append(search_lag(since))
            beyond_lag.append(wall - lags[-1])

        def run(fault: str | None) -> tuple[float, str, str]:
            stack.set_faults([fault] if fault else [])
            return runs(stack, args.runs, None if fault else note_lag)

        timed([*pytest, "test_empty.py"], work, env)
        run(None)  # warm-up: page cache, .pyc, the stack's first TSDB writes
        floor = statistics.median(timed([*pytest, "test_empty.py"], work, env)[0] for _ in range(max(args.runs, 5)))
        lags.clear(), beyond_lag.clear()
        healthy, code, headline = run(None)
        overhead = statistics.median(beyond_lag) - floor
        lag = statistics.median(lags)
        for fault in faults:
            if fault in FRESH_STACK:
                continue
            rows.append((fault, *run(fault)))
    for fault in (f for f in faults if f in FRESH_STACK):  # deployed broken: on a fresh stack of its own
        with ReferenceStack([fault], tenants=(TENANT,)) as fresh:
            rows.append((f"{fault} (fresh stack)", *runs(fresh, args.runs)))
    print(f"| run | median of {args.runs} | bar | exit | headline |\n|---|---|---|---|---|")
    print(f"| floor (empty test) | {floor:.2f} s | — | — | — |")
    print(f"| healthy | {healthy:.2f} s | — | {code} | {headline[:90]} |")
    print(f"| healthy − slowest lag (median {lag:.1f} s, Tempo search; each run its own) | {overhead + floor:.2f} s "
          "| — | — | — |")
    print(f"| healthy − slowest lag − floor: the suite's overhead | **{overhead:.2f} s** | ≤ {OVERHEAD_BAR} s "
          f"{'✅' if overhead <= OVERHEAD_BAR else '❌'} | — | — |")
    worst = 0.0
    for fault, wall, code, headline in rows:
        aside = fault.split("=")[0] in WAITING
        ok = "aside (tests waiting)" if aside else ("✅" if wall <= RED_BAR else "❌")
        worst = worst if aside else max(worst, wall)
        print(f"| {fault} | {wall:.2f} s | ≤ {RED_BAR:.0f} s {ok} | {code} | {headline[:90]} |")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"\nslowest time to red (waiting faults aside): {worst:.2f} s; measured {when}, "
          f"nproc {os.cpu_count()}")
    return 0 if worst <= RED_BAR and overhead <= OVERHEAD_BAR else 1


if __name__ == "__main__":
    sys.exit(main())
