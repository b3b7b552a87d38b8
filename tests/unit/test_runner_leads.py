"""The run's critical path starts first: a leading check (Check.leads, Tempo's search, whose data
is visible only seconds after its push) is started before the others, which start once it has
pushed — or after runner.LEAD_WAIT when it never does, or at once when it ends first."""
from __future__ import annotations

import time
from types import SimpleNamespace

from lgtm_smoke import runner as runner_mod
from lgtm_smoke.outcome import Check, CheckFailed, Status
from lgtm_smoke.probe import ProbeContext
from lgtm_smoke.runner import Runner

SETTINGS = SimpleNamespace(readback_timeout=5.0, run_id="r1", tenant="t")


def run(checks):
    r = Runner({"http": lambda check: ProbeContext(SETTINGS, client=None, check=check.id)})
    r.start(checks)
    outcomes = {c.id: r.outcome(c) for c in checks}
    r.close()
    return outcomes


def test_the_others_start_once_the_leader_has_pushed():
    marks: dict[str, float] = {}

    def leader(ctx):
        time.sleep(0.2)
        marks["pushed"] = time.monotonic()
        ctx.accepted(at=marks["pushed"])
        time.sleep(0.3)  # its read-back wait: the others run meanwhile
        marks["leader_done"] = time.monotonic()
        return {}

    def other(name):
        def fn(ctx):
            marks[name] = time.monotonic()
            return {}
        return fn

    checks = [Check(f"mimir.c{i}", "mimir", other(f"c{i}")) for i in range(5)]
    checks.append(Check("tempo.search", "tempo", leader, leads=True))  # collected last, started first
    outcomes = run(checks)
    assert all(o.status is Status.PASSED for o in outcomes.values())
    starts = [marks[f"c{i}"] for i in range(5)]
    assert all(marks["pushed"] <= s < marks["leader_done"] for s in starts), (marks, starts)


def test_a_leader_that_fails_before_pushing_releases_the_others_at_once():
    def dead(ctx):
        raise CheckFailed("push: POST /v1/traces → 502")

    t0 = time.monotonic()
    outcomes = run([Check("mimir.ok", "mimir", lambda ctx: {"ok": 1}), Check("tempo.search", "tempo", dead, leads=True)])
    assert outcomes["mimir.ok"].status is Status.PASSED and time.monotonic() - t0 < runner_mod.LEAD_WAIT


def test_a_leader_that_never_pushes_holds_the_others_no_longer_than_lead_wait(monkeypatch):
    monkeypatch.setattr(runner_mod, "LEAD_WAIT", 0.3)
    started: dict[str, float] = {}

    def slow_leader(ctx):
        time.sleep(1.0)
        return {}

    def other(ctx):
        started["at"] = time.monotonic()
        return {}

    t0 = time.monotonic()
    run([Check("tempo.search", "tempo", slow_leader, leads=True), Check("mimir.ok", "mimir", other)])
    assert 0.25 <= started["at"] - t0 < 0.9
