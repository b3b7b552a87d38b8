"""The CLI a person types: `lgtm-smoke demo` gives a verdict whose exit code is the
verdict, and `lgtm-smoke devstack` prints what runs green as pasted, runs until Ctrl-C and leaves
nothing behind."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def _start_devstack(cwd) -> tuple[subprocess.Popen, str]:
    """`lgtm-smoke devstack` started, and what it printed up to "Ctrl-C stops the stack"."""
    proc = subprocess.Popen([*CLI, "devstack"], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (lines and "Ctrl-C stops the stack" in lines[-1]):
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
    return proc, "".join(lines)


def _stop_devstack(proc: subprocess.Popen, workdir: str | None) -> None:
    """Ctrl-C, as a person stops it: exit 0, "reference stack stopped", none of its processes left."""
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
    assert workdir is None or _children_alive(workdir) == []


def _workdir(printed: str) -> str | None:
    """The stack's own folder, in every path it printed: only its processes are looked for
    (other test runs on the machine have stacks of their own)."""
    found = re.search(r"(/\S*lgtm-refstack-[^/\s]+)/", printed)
    return found.group(1) if found else None


def test_devstack_runs_until_ctrl_c_and_leaves_no_process(tmp_path):
    proc, text = _start_devstack(tmp_path)
    workdir = _workdir(text)
    try:
        alb = re.search(r"^ALB: (\S+)", text, re.M).group(1)
        ca = re.search(r"CA: (\S+)", text)
        import requests

        assert requests.get(alb + "/api/health", timeout=5, verify=ca.group(1) if ca else True).status_code == 200
        stack_procs = _children_alive(workdir)
        assert stack_procs, "nginx and prometheus should be running under the stack's workdir"
    finally:
        _stop_devstack(proc, workdir)


def test_devstack_prints_what_runs_green_as_printed(tmp_path):
    """The exports and the `pytest -m smoke …` line `lgtm-smoke devstack` prints, run in a shell
    exactly as printed (nothing from this shell's LGTM_ variables), give a green verdict; the
    secrets it exports are read from files, and neither it nor the suite prints their values."""
    proc, text = _start_devstack(tmp_path)
    workdir = _workdir(text)
    try:
        lines = text.splitlines()
        start = next((i + 1 for i, line in enumerate(lines) if line.endswith(", paste:")), None)
        assert start is not None, f"no 'paste:' block in what devstack printed:\n{text}"
        pasted = lines[start:-1]  # up to "Ctrl-C stops the stack"
        assert [line.split()[0] for line in pasted] == ["export", "export", "pytest"], text

        def run_in_shell(script: list[str]) -> subprocess.CompletedProcess:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LGTM_")}
            env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # this venv's pytest
            return subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=180)

        run = run_in_shell(pasted)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert re.search(r"^verdict: GREEN: all \d+ checks passed$", run.stdout, re.M), run.stdout[-3000:]
        assert "test_plain_http_redirects_to_https PASSED" in run.stdout, run.stdout[-3000:]
        # The line as it was printed before, without the plain-HTTP listener: red, naming port 80.
        without = [re.sub(r" --alb-http=\S+", "", line) for line in pasted]
        assert without != pasted
        red = run_in_shell(without)
        assert red.returncode == 1 and re.search(
            r"FAIL +test_plain_http_redirects_to_https +GET http://127\.0\.0\.1/\S+: no answer from the plain-HTTP "
            r"listener \(\w+\): is port 80 open", red.stdout), red.stdout[-3000:]
        assert re.search(r"^verdict: RED: 1 of \d+ checks failed \(alb 1\)", red.stdout, re.M), red.stdout[-3000:]
        secrets = [Path(path).read_text() for path in re.findall(r'export LGTM_\w+="\$\(cat (\S+)\)"', text)]
        assert len(secrets) == 2 and all(secrets)
        assert not any(secret in text + run.stdout + run.stderr + red.stdout + red.stderr for secret in secrets)
    finally:
        _stop_devstack(proc, workdir)
