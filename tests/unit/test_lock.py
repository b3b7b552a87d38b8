"""The lock is what is installed (issue 18): uv.lock matches pyproject.toml's floors, every file in
requirements/ is exactly its export (tools/lock.sh --check), and the environment these tests run in
holds exactly the locked versions of requirements/dev.txt, so a green run here is a green run of
what CI, the demo and the gate install on any machine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)(?:\s*;\s*(.+?))?\s*\\?$", re.M)


def uv() -> str:
    path = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if path is None:
        pytest.fail("uv is not installed: bash tools/install.sh dev \"$(command -v python3)\" (requirements/install.txt)")
    return path


def lock_check(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "UV": uv()}  # the machine's own CA settings too: uv reads the index through them
    return subprocess.run(["bash", "tools/lock.sh", "--check"], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def locked(requirements: str) -> dict[str, str]:
    """name -> version of every line of a requirements/ export that applies to this interpreter."""
    from packaging.markers import Marker

    text = (REPO / "requirements" / requirements).read_text()
    return {name.lower().replace("_", "-"): version for name, version, marker in PINNED.findall(text)
            if not marker or Marker(marker).evaluate()}


def test_the_lock_and_its_exports_are_current():
    proc = lock_check(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def lock_copy(tmp_path) -> Path:
    for rel in ("pyproject.toml", "README.md", "uv.lock", "refstack/pyproject.toml", "tools/lock.sh", "requirements"):
        src, dest = REPO / rel, tmp_path / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest)
    return tmp_path


def test_a_floor_the_lock_does_not_meet_is_caught(lock_copy):
    pyproject = lock_copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"tenacity>=8.3"', '"tenacity>=8.3,<8.4"'))
    proc = lock_check(lock_copy)
    assert proc.returncode == 1 and "uv.lock does not match pyproject.toml" in proc.stderr, proc.stdout + proc.stderr


def test_a_stale_export_is_caught(lock_copy):
    suite = lock_copy / "requirements" / "suite.txt"
    suite.write_text(re.sub(r"^tenacity==\S+", "tenacity==8.2.0", suite.read_text(), flags=re.M))
    proc = lock_check(lock_copy)
    assert proc.returncode == 1 and "requirements/suite.txt is stale" in proc.stderr, proc.stdout + proc.stderr


@pytest.mark.skipif(bool(os.environ.get("LGTM_DRIFT_RUN")), reason="a drift run (bash .ci/run newest|lowest) is not the lock")
def test_this_environment_is_the_lock():
    """What .ci/run installed (tools/install.sh dev) is every locked version, nothing floating."""
    wanted = locked("dev.txt")
    assert {"moto", "boto3", "pytest", "uv"} <= set(wanted)
    drift = {}
    for name, version in wanted.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "missing"
        if have != version:
            drift[name] = f"locked {version}, installed {have}"
    assert not drift, f"installed ≠ requirements/dev.txt (run bash .ci/run, which installs from the lock): {drift}"


def test_the_suites_export_is_the_dev_exports_subset():
    """The gate installs a subset of what the tests ran with, at the same versions."""
    suite, dev = locked("suite.txt"), locked("dev.txt")
    assert {k: dev.get(k) for k in suite} == suite
