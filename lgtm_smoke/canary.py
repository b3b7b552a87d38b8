"""`lgtm-smoke canary`: the smoke suite run on a schedule, each run pushing its outcome
(`--push-results`) so Mimir's ruler can page when the stack breaks between deploys
(rules: infra/images/mimir/rules/lgtm-smoke-canary.yaml).

On AWS the schedule is EventBridge Scheduler starting one Fargate task per tick; the task runs
`lgtm-smoke canary --once`: one run under a hard deadline. Scheduler and ECS have no overlap
guard and no task timeout, so the deadline (well inside the interval) is what keeps two runs
from overlapping. Without `--once` this module loops, for local use and tests: runs start on
a fixed grid of `interval` seconds, one after another in this process, so they never overlap;
a run that outlives its tick makes the loop skip the ticks it missed.

Each run is a `python -m pytest` subprocess in a session of its own: the deadline can then
stop it whole (the suite's threads included), and no state of one run (imported test modules,
plugin registrations) leaks into the next.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

DEADLINE_EXIT = 1  # a run stopped at its deadline is not green; it pushed nothing (see not-reporting alert)
GRACE_S = 5.0  # SIGTERM → SIGKILL: pytest gets this long to write its reports


class CanaryUsageError(ValueError):
    """An interval/deadline pair that cannot keep runs apart."""


@dataclass(frozen=True)
class Schedule:
    interval_s: float  # one run starts every interval
    deadline_s: float  # a run is stopped after this long

    def __post_init__(self) -> None:
        if self.deadline_s <= 0 or self.interval_s <= 0:
            raise CanaryUsageError("--interval and --deadline must be positive seconds")
        if self.deadline_s >= self.interval_s:
            raise CanaryUsageError(f"--deadline {self.deadline_s:g} must be shorter than --interval "
                                   f"{self.interval_s:g}: a run must end before the next one starts")

    def next_start(self, previous_start: float, now: float) -> float:
        """The first tick of the grid after `now` (ticks a late run overran are skipped)."""
        ticks = max(1, int((now - previous_start) // self.interval_s) + 1)
        return previous_start + ticks * self.interval_s


def pytest_command(pytest_args: list[str]) -> list[str]:
    # --push-results: the alert rules read what each run pushes, under source="canary" (the deploy
    # gate's runs are source="gate": a red gate run never counts toward a canary page); -rfE as `lgtm-smoke run`.
    # --publish-source canary: when the run publishes its verdict per service to CloudWatch (the scheduled task
    # sets LGTM_PUBLISH_CLOUDWATCH=1), it goes under Source=canary, never the deploy alarms' Source=deploy:
    # a deploy that fixes what the canary saw broken must not start with its alarm in ALARM.
    return [sys.executable, "-m", "pytest", "-m", "smoke", "-p", "no:cacheprovider", "-rfE", "--push-results",
            "--push-source", "canary", "--publish-source", "canary", *pytest_args]


def run_once(command: list[str], deadline_s: float, log: Callable[[str], None]) -> int:
    """One run of `command`, stopped (its whole process group) at `deadline_s`. Its exit code,
    or DEADLINE_EXIT when it had to be stopped."""
    proc = subprocess.Popen(command, start_new_session=True)
    try:
        return proc.wait(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        log(f"lgtm-smoke canary: the run exceeded its deadline of {deadline_s:g}s and was stopped "
            f"(it pushed no result)")
        return DEADLINE_EXIT
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def loop(command: list[str], schedule: Schedule, runs: int | None, log: Callable[[str], None],
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
    """Run `command` every `schedule.interval_s`, `runs` times (None: until stopped). The last
    run's exit code."""
    code, done, start = 0, 0, clock()
    while True:
        code = run_once(command, schedule.deadline_s, log)
        done += 1
        log(f"lgtm-smoke canary: run {done} exited {code}")
        if runs is not None and done >= runs:
            return code
        start = schedule.next_start(start, clock())
        sleep(max(0.0, start - clock()))


def _terminate_as_interrupt(signum, frame) -> None:  # noqa: ARG001 (signal handler signature)
    raise KeyboardInterrupt  # ECS stops a task with SIGTERM: unwind so the running suite is stopped too


def main(pytest_args: list[str], interval_s: float, deadline_s: float, once: bool, runs: int | None) -> int:
    schedule = Schedule(interval_s, deadline_s)  # CanaryUsageError: the caller's one-line usage error

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    command = pytest_command(pytest_args)
    try:
        if once:
            return run_once(command, schedule.deadline_s, log)
        return loop(command, schedule, runs, log)
    except KeyboardInterrupt:
        log("lgtm-smoke canary: stopped")
        return 130
