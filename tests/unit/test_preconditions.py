"""Preconditions: each established once, whoever asks first; a failed one blocks exactly the
checks that need it; each target-group probe is a read that routes.json sends to that group."""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest

from lgtm_smoke.data import routes
from lgtm_smoke.outcome import Blocked, Check, CheckFailed, Status
from lgtm_smoke.preconditions import TARGET_GROUP_PROBES, alb
from lgtm_smoke.runner import Preconditions, Runner
from lgtm_smoke.settings import Settings, parse_alb


def test_every_target_group_has_a_probe_that_routes_to_it():
    table = routes.load()
    assert set(TARGET_GROUP_PROBES) == set(table.target_groups)
    for group, (path, _) in TARGET_GROUP_PROBES.items():
        assert table.target_for(urlsplit(path).path) == group, f"{path} does not route to {group}"


def test_a_precondition_runs_once_and_blocks_only_its_dependents():
    calls = []
    lock = threading.Lock()

    def tg(pid):
        with lock:
            calls.append(pid)
        if pid == "target_group.mimir":
            raise CheckFailed("target group mimir: GET /x → 502: Bad Gateway")

    runner = Runner({"http": lambda check: None}, Preconditions({"target_group.*": tg}))
    checks = [Check(f"mimir.c{i}", "mimir", lambda ctx: {"ok": 1}, needs=("target_group.mimir",)) for i in range(5)]
    checks += [Check("loki.c", "loki", lambda ctx: {"ok": 1}, needs=("target_group.loki",)),
               Check("aws.c", "aws", lambda ctx: {"ok": 1}, needs=("aws.credentials",))]  # no provider: met here
    runner.start(checks)
    outcomes = {c.id: runner.outcome(c) for c in checks}
    runner.close()
    assert sorted(calls) == ["target_group.loki", "target_group.mimir"]
    blocked = {cid for cid, o in outcomes.items() if o.status is Status.BLOCKED}
    assert blocked == {f"mimir.c{i}" for i in range(5)}
    assert {outcomes[c].blocked_by for c in blocked} == {"target_group.mimir"}
    assert outcomes["mimir.c0"].cause == "target group mimir: GET /x → 502: Bad Gateway"
    assert outcomes["loki.c"].status is Status.PASSED and outcomes["aws.c"].status is Status.PASSED


def test_a_check_may_block_itself_and_a_bug_is_one_line_with_a_trace_file(tmp_path):
    def blocked(ctx):
        raise Blocked("aws.credentials", "no AWS credentials: configure the standard chain")

    def buggy(ctx):
        return {}["missing"]

    runner = Runner({"aws": lambda c: None, "http": lambda c: None}, trace_dir=tmp_path)
    b = runner.outcome(Check("aws.x", "aws", blocked, kind="aws"))
    bug = runner.outcome(Check("mimir.bug", "mimir", buggy))
    runner.close()
    assert (b.status, b.blocked_by) == (Status.BLOCKED, "aws.credentials")
    assert bug.status is Status.FAILED and "\n" not in bug.cause
    assert bug.cause.startswith("bug in the suite: check mimir.bug raised KeyError: 'missing' (trace in ")
    assert "Traceback" in (tmp_path / "mimir.bug.trace.txt").read_text()


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1:1", "ALB 127.0.0.1:1 refuses connections"),
    ("http://lgtm-alb.invalid", "ALB lgtm-alb.invalid:80: its name does not resolve"),
])
def test_the_alb_precondition_names_what_failed(url, says):
    with pytest.raises(CheckFailed) as e:
        alb(Settings(parse_alb(url), "t", 1.0, "0" * 12))
    assert e.value.cause.startswith(says) and "\n" not in e.value.cause
