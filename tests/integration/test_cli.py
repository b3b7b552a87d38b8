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
    assert "RED: target group loki: GET /loki/api/v1/labels → 404: 404 page not found — 2 checks blocked" in proc.stdout


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
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("run: export"):
                break
        alb = next(x for x in lines if x.startswith("ALB: ")).split("ALB: ", 1)[1].strip()
        # this stack's own workdir (other stacks may run on the machine at the same time)
        workdir = re.search(r"(/\S*lgtm-refstack-[^/\s]+)", lines[-1]).group(1)
        import requests

        assert requests.get(alb + "/api/health", timeout=5).status_code == 200
        stack_procs = _children_alive(workdir)
        assert stack_procs, "nginx and prometheus should be running under the stack's workdir"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "reference stack stopped" in out
    time.sleep(0.2)
    assert _children_alive(workdir) == []
