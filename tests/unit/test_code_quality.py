"""Lint and types, as tests so CI runs them: ruff over the code the core owns, mypy --strict
on the core modules. (The import-linter contracts of pyproject.toml join when every room's
code is on main.)"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = ["lgtm_smoke/plugin.py", "lgtm_smoke/settings.py", "lgtm_smoke/runner.py", "lgtm_smoke/retry.py",
        "lgtm_smoke/http.py", "lgtm_smoke/outcome.py", "lgtm_smoke/probe.py", "lgtm_smoke/preconditions.py",
        "lgtm_smoke/verdict"]
LINTED = [*CORE, "lgtm_smoke/backends/mimir", "lgtm_smoke/backends/loki", "lgtm_smoke/backends/tempo",
          "lgtm_smoke/backends/pyroscope", "lgtm_smoke/backends/grafana", "lgtm_smoke/backends/security.py",
          "tests/unit", "tests/integration", "tests/harness.py", "bench"]


def tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return path


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def test_ruff_is_clean():
    proc = run([tool("ruff"), "check", *LINTED])
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_mypy_strict_on_the_core():
    proc = run([tool("mypy"), "--strict", *CORE])
    assert proc.returncode == 0, proc.stdout[-4000:]
