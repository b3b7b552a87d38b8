"""Runs checks: all at once in a thread pool, each test waiting only for its own.

For each check the runner first establishes the preconditions it `needs` (once per run,
whoever asks first; see `Preconditions`), then calls `check.fn(ctx)` with the context of its
kind, and turns whatever happened into one `Outcome`:
- evidence returned → PASSED; `CheckFailed` → FAILED; `Blocked` or a failed precondition →
  BLOCKED (blocked_by = the precondition id); `NotWaited` → SKIPPED (see RedFlag);
- any other exception is a bug in the suite: FAILED with one line naming it and the path of
  a file holding the trace (never a traceback on the terminal).
"""
from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .outcome import Blocked, Check, CheckFailed, NotWaited, Outcome, Status

LEAD_WAIT = 1.0  # seconds the other checks wait at most for the leaders' push (a dead backend ends it sooner)
ContextFor = Callable[[Check], Any]  # kind -> (check -> the ctx its fn gets)
Provider = Callable[[str], Any]  # precondition id -> evidence, or raises CheckFailed / Blocked


class _LoggerDict(dict):  # type: ignore[type-arg]
    def values(self):  # type: ignore[no-untyped-def]
        return list(super().values())  # a copy made under the GIL: safe while other threads add loggers


def loggers_safe_to_create_in_threads() -> None:
    """The checks run in threads and import lazily (boto3 in the AWS fetch, the OTel SDK in the
    Tempo checks); each module's `logging.getLogger(__name__)` adds to logging's logger dict,
    which pytest's logging plugin iterates in the main thread at every test phase and at
    collection ("dictionary changed size during iteration", an INTERNALERROR seen under load).
    Its `values()` becomes a snapshot; nothing else about logging changes."""
    manager = logging.Logger.manager
    if not isinstance(manager.loggerDict, _LoggerDict):
        manager.loggerDict = _LoggerDict(manager.loggerDict)


class Preconditions:
    """Precondition ids (`alb`, `target_group.<name>`, `grafana.login`, `aws.credentials`)
    established once each, on first need. `providers` maps an id, or a prefix ending in
    `.*` (`target_group.*`), to a function that returns or raises CheckFailed(cause). An id
    without a provider counts as met here: the checks that need it raise `Blocked` themselves
    (the AWS room's `aws.credentials`)."""

    def __init__(self, providers: Mapping[str, Provider] | None = None):
        self.providers = dict(providers or {})
        self.results: dict[str, Future[Blocked | None]] = {}
        self.lock = threading.Lock()

    def _provider(self, pid: str) -> Provider | None:
        if pid in self.providers:
            return self.providers[pid]
        prefix = pid.split(".", 1)[0] + ".*"
        return self.providers.get(prefix)

    def establish(self, pid: str) -> Blocked | None:
        """None when `pid` holds; else the Blocked that every dependent check reports."""
        with self.lock:
            future = self.results.get(pid)
            owner = future is None
            if owner:
                future = self.results[pid] = Future()
        assert future is not None
        if owner:
            future.set_result(self._run(pid))
        return future.result()

    def _run(self, pid: str) -> Blocked | None:
        provider = self._provider(pid)
        if provider is None:
            return None
        try:
            provider(pid)
        except Blocked as e:
            return e
        except CheckFailed as e:
            return Blocked(pid, e.cause)
        except Exception as e:  # a bug in a precondition blocks its checks with a line, not a trace
            return Blocked(pid, f"bug in the suite: precondition {pid} raised {type(e).__name__}: {e}")
        return None


class RedFlag:
    """Raised by the first failed or blocked check: from then on the verdict is red whatever the
    checks still waiting would find, so their read-backs stop waiting (probe.ProbeContext) and
    the run ends in seconds, not after the slowest backend's visibility lag."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.why = ""  # the first failed or blocked check, as the skipped checks name it

    def raise_for(self, out: Outcome) -> None:
        if out.status in (Status.FAILED, Status.BLOCKED) and not self._event.is_set():
            # a blocked check names its root cause (the precondition), a failed one itself
            self.why = f"{out.blocked_by} failed" if out.blocked_by else f"{out.check} failed"
            self._event.set()

    def is_up(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds`, waking early when the flag goes up; True if it is up."""
        return self._event.wait(seconds)


def bug_line(what: str, exc: BaseException, trace: str, folder: Path | None = None) -> str:
    """A bug in the suite, as the user sees it: one line naming it and the file holding its trace."""
    folder = folder or Path(tempfile.gettempdir()) / "lgtm-smoke"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^\w.-]+", "_", what.split()[-1]) + ".trace.txt")
    path.write_text(trace)
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"bug in the suite: {what} raised {type(exc).__name__}: {first} (trace in {path})"


class Runner:
    def __init__(self, contexts: Mapping[str, ContextFor], preconditions: Preconditions | None = None,
                 workers: int = 64, trace_dir: Path | None = None, red: RedFlag | None = None):
        self.contexts = dict(contexts)
        self.preconditions = preconditions or Preconditions()
        self.red = red
        # every check at once (they wait on the network, not the CPU): one queued behind others
        # would start its own wait late, and the slowest backend's lag is the run's critical path
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check")
        self.futures: dict[str, Future[Outcome]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.trace_dir = trace_dir
        self.leaders: set[str] = set()  # leading checks (Check.leads) not yet pushed or done
        self.led = threading.Event()  # set once every leader has pushed (or ended): the rest may start
        self.led.set()
        self.lock = threading.Lock()

    def start(self, checks: Iterable[Check]) -> None:
        """Start `checks`: the leading ones first; the others wait (at most LEAD_WAIT) until every
        leader has pushed, so the run's critical path does not share the CPU with 40 starts."""
        checks = [c for c in checks if c.id not in self.futures]
        with self.lock:
            self.leaders |= {c.id for c in checks if c.leads}
            if self.leaders:
                self.led.clear()
        for check in sorted(checks, key=lambda c: not c.leads):
            self.futures[check.id] = self.pool.submit(self._run, check)

    def _led(self, check_id: str) -> None:
        """Leader `check_id` has pushed (or ended)."""
        with self.lock:
            self.leaders.discard(check_id)
            if not self.leaders:
                self.led.set()

    def outcome(self, check: Check) -> Outcome:
        """Wait for `check` (starting it if nobody did) and return its Outcome."""
        self.start([check])
        out = self.futures[check.id].result()
        self.outcomes[check.id] = out
        return out

    def _run(self, check: Check) -> Outcome:
        if not check.leads:
            self.led.wait(LEAD_WAIT)
        try:
            out = self._outcome(check)
        finally:
            if check.leads:
                self._led(check.id)
        if self.red is not None:
            self.red.raise_for(out)
        return out

    def _outcome(self, check: Check) -> Outcome:
        t0 = time.monotonic()
        for pid in check.needs:
            blocked = self.preconditions.establish(pid)
            if blocked is not None:
                return Outcome(check.id, check.area, Status.BLOCKED, blocked.cause, runbook=check.runbook_key,
                               blocked_by=blocked.precondition, duration=time.monotonic() - t0)
        ctx = None
        try:
            ctx = self.contexts[check.kind](check)
            if check.leads:
                ctx.on_pushed = lambda: self._led(check.id)
            data = check.fn(ctx) or {}
            out = Outcome(check.id, check.area, Status.PASSED, runbook=check.runbook_key, data=dict(data))
        except (CheckFailed, Blocked, NotWaited) as e:
            out = Outcome.from_exception(check, e)
        except Exception as e:
            out = Outcome(check.id, check.area, Status.FAILED, self._bug(check, e), runbook=check.runbook_key)
        out.duration = time.monotonic() - t0
        for name in ("push_ok", "read_ok", "latency"):  # what a probe context recorded
            if getattr(ctx, name, None) is not None:
                setattr(out, name, getattr(ctx, name))
        return out

    def _bug(self, check: Check, exc: Exception) -> str:
        return bug_line(f"check {check.id}", exc, traceback.format_exc(), self.trace_dir)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
