"""Once the verdict is red (a check failed or was blocked), read-backs still waiting stop and
are reported skipped ("not waited for"), so a broken stack is reported in seconds, not after
the slowest backend's lag; a read-back waits at least NOT_WAITED_AFTER even then, and without
the red flag (--wait-all) every read-back waits to its deadline."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from lgtm_smoke import probe
from lgtm_smoke.outcome import Check, CheckFailed, Status
from lgtm_smoke.probe import NotYetVisible, ProbeContext
from lgtm_smoke.runner import RedFlag, Runner

DEADLINE = 20.0


def never_visible() -> None:
    raise NotYetVisible(None, "0 traces")


def contexts(red):
    settings = SimpleNamespace(readback_timeout=DEADLINE, run_id="r1", tenant="t")
    return {"http": lambda check: ProbeContext(settings, client=None, check=check.id, red=red)}


def broken(ctx):
    time.sleep(0.05)
    raise CheckFailed("loki: push → 404")


def waiting(ctx):
    return ctx.read_back(never_visible, what="trace abc in TraceQL search")


def run(red, checks):
    runner = Runner(contexts(red), red=red)
    runner.start(checks)
    t0 = time.monotonic()
    outcomes = {c.id: runner.outcome(c) for c in checks}
    runner.close()
    return outcomes, time.monotonic() - t0


def test_a_read_back_still_waiting_when_the_verdict_turns_red_is_not_waited_for():
    checks = [Check("loki.push", "loki", broken), Check("tempo.search", "tempo", waiting)]
    outcomes, took = run(RedFlag(), checks)
    assert outcomes["loki.push"].status is Status.FAILED
    search = outcomes["tempo.search"]
    assert search.status is Status.SKIPPED, search
    assert search.cause.startswith("not waited for: the verdict was already red (loki.push failed) when this read "
                                   "had waited 1.")
    assert "(last: 0 traces); --wait-all waits for it" in search.cause
    assert probe.NOT_WAITED_AFTER <= took < probe.NOT_WAITED_AFTER + 1.0  # not the 20 s deadline


def test_a_read_back_gets_its_minimum_wait_even_when_red_and_then_passes():
    seen = threading.Event()

    def visible_after_half_a_second(ctx):
        t0 = time.monotonic()

        def fetch():
            if time.monotonic() - t0 < 0.5:
                raise NotYetVisible(None, "not yet")
            seen.set()
            return {"ok": 1}

        return ctx.read_back(fetch, what="sample")

    checks = [Check("loki.push", "loki", lambda ctx: (_ for _ in ()).throw(CheckFailed("dead"))),
              Check("mimir.sample", "mimir", visible_after_half_a_second)]
    outcomes, _ = run(RedFlag(), checks)
    assert outcomes["mimir.sample"].status is Status.PASSED and seen.is_set()


def test_a_green_run_never_raises_the_flag_and_without_it_reads_wait_out_their_deadline(monkeypatch):
    red = RedFlag()
    outcomes, _ = run(red, [Check("mimir.ok", "mimir", lambda ctx: {"ok": 1})])
    assert outcomes["mimir.ok"].status is Status.PASSED and not red.is_up()

    settings = SimpleNamespace(readback_timeout=0.6, run_id="r1", tenant="t")
    runner = Runner({"http": lambda check: ProbeContext(settings, client=None, check=check.id)})  # --wait-all
    checks = [Check("loki.push", "loki", broken), Check("tempo.search", "tempo", waiting)]
    runner.start(checks)
    search = runner.outcome(checks[1])
    runner.close()
    assert search.status is Status.FAILED and "not visible after 0.6s; received 0 traces" in search.cause
