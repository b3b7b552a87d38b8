"""The real programs the stack runs as child processes (nginx, Prometheus): the error a start
that fails raises, and how a child is stopped."""
from __future__ import annotations

import os
import signal
import subprocess


class ServiceStartError(RuntimeError):
    """A real program of the stack did not start: missing, its config rejected, or not ready in time."""


def stop(proc: subprocess.Popen | None, group: bool = False) -> None:
    """SIGTERM, up to 5 s to exit, then SIGKILL: to the process, or with `group` to the whole
    process group it leads (nginx's workers would outlive a killed master and keep its ports)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait()
