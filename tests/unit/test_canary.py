"""`lgtm-smoke canary`: runs never overlap, a run is stopped at its deadline, and an
interval/deadline pair that cannot keep runs apart is a one-line usage error."""
from __future__ import annotations

import sys
import time

import pytest

from lgtm_smoke import canary, cli


def test_deadline_must_be_shorter_than_the_interval(capsys):
    assert cli.main(["canary", "--interval", "60", "--deadline", "60"]) == cli.USAGE_ERROR
    err = capsys.readouterr().err
    assert err.strip() == ("lgtm-smoke: error: --deadline 60 must be shorter than --interval 60: "
                           "a run must end before the next one starts")
    assert cli.main(["canary", "--interval", "0", "--deadline", "-1"]) == cli.USAGE_ERROR
    assert "must be positive" in capsys.readouterr().err


@pytest.mark.parametrize("start, now, expected", [
    (0, 40, 300),  # a normal run: the next tick
    (0, 299.9, 300),
    (0, 300, 600),  # a run that overran its tick: that tick is skipped, never run late into the next
    (0, 700, 900),
])
def test_next_start_is_the_first_tick_after_now(start, now, expected):
    assert canary.Schedule(300, 240).next_start(start, now) == expected


def test_a_run_past_its_deadline_is_stopped_with_its_children(tmp_path):
    marker = tmp_path / "child-alive"
    # the run starts a grandchild that would write the marker after 3 s: stopping the group stops it too
    script = f"import subprocess, sys, time; subprocess.Popen(['sh', '-c', 'sleep 3; touch {marker}']); time.sleep(60)"
    lines: list[str] = []
    code = canary.run_once([sys.executable, "-c", script], 1.0, lines.append)
    assert code == canary.DEADLINE_EXIT
    assert lines == ["lgtm-smoke canary: the run exceeded its deadline of 1s and was stopped (it pushed no result)"]
    time.sleep(3.5)  # longer than the grandchild would need: it must be gone, not merely orphaned
    assert not marker.exists()


def test_loop_runs_in_sequence_on_the_grid_and_returns_the_last_code(monkeypatch):
    now = [0.0]
    starts: list[float] = []
    durations = iter([40.0, 250.0, 10.0])  # the second run overruns its tick (a stalled machine)

    def fake_run(command, deadline, log):
        starts.append(now[0])
        now[0] += next(durations)
        return len(starts) % 2

    def sleep(seconds):
        assert seconds >= 0
        now[0] += seconds

    monkeypatch.setattr(canary, "run_once", fake_run)
    code = canary.loop(["x"], canary.Schedule(100, 90), 3, lambda line: None, clock=lambda: now[0], sleep=sleep)
    assert starts == [0.0, 100.0, 400.0]  # never two at once; the ticks at 200 and 300 were skipped
    assert code == 1


def test_the_run_pushes_its_results():
    command = canary.pytest_command(["--alb", "x"])
    assert "--push-results" in command
    assert command[command.index("--push-source") + 1] == "canary"  # its alert rules read only source="canary"
    # its CloudWatch verdict per service never lands on the series the deploy alarms watch (Source=deploy)
    assert command[command.index("--publish-source") + 1] == "canary"
