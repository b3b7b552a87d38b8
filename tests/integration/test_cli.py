"""The CLI a person types: `lgtm-smoke demo` gives a verdict whose exit code is the
verdict, and `lgtm-smoke devstack` runs until Ctrl-C and leaves nothing behind."""
import re
import signal
import subprocess
import sys
import time

CLI = [sys.executable, "-m", "lgtm_smoke.cli"]
ROUND_TRIPS = "smoke and (mimir or loki) and not (security or grafana)"


def _children_alive(workdir_marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if workdir_marker in line and "ps -eo" not in line]


def test_demo_prints_a_green_verdict_and_exits_0(tmp_path):
    proc = subprocess.run([*CLI, "demo", "--", "-m", ROUND_TRIPS], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reference stack up in" in proc.stdout and "GREEN: all 3 checks passed" in proc.stdout


def test_demo_with_a_fault_is_red_and_exits_1(tmp_path):
    proc = subprocess.run([*CLI, "demo", "--fault", "loki-route-404", "--", "-m", ROUND_TRIPS],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # the 404 is the default action's: Grafana's not-found page, or the ALB's fixed 404 (allow-list)
    assert re.search(r"RED: target group loki: GET /loki/api/v1/labels → 404: .+ — 2 checks blocked", proc.stdout)


def test_demo_with_an_unknown_fault_is_a_usage_error(tmp_path):
    proc = subprocess.run([*CLI, "demo", "--fault", "nope"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "unknown fault 'nope'" in proc.stderr


def test_devstack_runs_until_ctrl_c_and_leaves_no_process(tmp_path):
    proc = subprocess.Popen([*CLI, "devstack"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (lines and "Ctrl-C stops the stack" in lines[-1]):
            lines.append(proc.stdout.readline())
        text = "".join(lines)
        alb = re.search(r"^ALB: (\S+)", text, re.M).group(1)
        ca = re.search(r"CA: (\S+)", text)
        # Only this stack's processes: other test runs on the machine have stacks of their own.
        workdir = re.search(r"(/\S*lgtm-refstack-[^/\s]+)/", text).group(1)
        import requests

        assert requests.get(alb + "/api/health", timeout=5, verify=ca.group(1) if ca else True).status_code == 200
        stack_procs = _children_alive(workdir)
        assert stack_procs, "nginx and prometheus should be running under the stack's workdir"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # a second Ctrl-C: a failing test still leaves no stack behind
            proc.communicate(timeout=20)
            raise AssertionError("lgtm-smoke devstack did not stop within 20 s of Ctrl-C") from None
    assert proc.returncode == 0, err
    assert "reference stack stopped" in out
    time.sleep(0.2)
    assert _children_alive(workdir) == []
