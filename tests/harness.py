"""Run the shipped smoke suite as a user does (a pytest subprocess in a neutral directory)
and read its verdict back from the JUnit XML it writes; run docs/runbook.md's by-hand commands
as an on-call engineer does (bash, from the root of a checkout)."""
from __future__ import annotations

import itertools
import os
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SmokeRun:
    returncode: int
    output: str
    seconds: float = 0.0
    passed: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # test name -> failure message
    skipped: dict[str, str] = field(default_factory=dict)  # test name -> reason
    files: dict[str, str] = field(default_factory=dict)  # every file the run left in its directory


def parse_junit(path: Path) -> tuple[set[str], dict[str, str], dict[str, str]]:
    passed, failed, skipped = set(), {}, {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name")
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is not None:
            message = (problem.get("message") or "").removeprefix("Failed: ")  # pytest.fail's prefix
            failed[name] = message + "\n" + (problem.text or "")
        elif case.find("skipped") is not None:
            skipped[name] = case.find("skipped").get("message") or ""
        else:
            passed.add(name)
    return passed, failed, skipped


_RUNS = itertools.count(secrets.randbelow(256))


def run_pytest(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 120,
               drop: tuple[str, ...] = ("LGTM_",)) -> SmokeRun:
    """`python -m pytest ARGS` in `cwd`; variables starting with `drop` do not leak in from this shell."""
    if not any(a.startswith("--run-id") for a in args):  # consecutive runs never share a Pyroscope run_slot
        args = [*args, "--run-id", secrets.token_hex(5) + f"{next(_RUNS) % 256:02x}"]
    junit = Path(cwd) / "junit.xml"
    junit.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "-p", "no:hypothesispytest",  # an unrelated plugin on this machine: 0.7 s of imports per run
           "--junitxml", str(junit), *args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**clean, **(env or {})})
    result = SmokeRun(proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - started)
    if junit.exists():
        result.passed, result.failed, result.skipped = parse_junit(junit)
    result.files = {p.name: p.read_text(errors="replace") for p in Path(cwd).iterdir() if p.is_file()}
    return result


# --- docs/runbook.md "By hand": the commands an on-call engineer pastes, run as they run them ------------
BY_HAND = "## By hand"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.M | re.S)


@dataclass
class ByHand:
    """The section's blocks: `preamble` (before the first backend heading) and, per backend (the first
    word of its `###` heading, lowercased), its `bash` blocks in order: [push, read]."""

    preamble: list[str]
    backends: dict[str, list[str]]
    languages: set[str]  # every fence's language in the section (all must be bash)


def by_hand(runbook: str) -> ByHand:
    start = runbook.find(f"\n{BY_HAND}")
    if start < 0:
        raise AssertionError(f"docs/runbook.md has no {BY_HAND!r} section")
    end = runbook.find("\n## ", start + 1)
    text = runbook[start:end if end > 0 else len(runbook)]
    parts = re.split(r"^### (\w+).*$", text, flags=re.M)
    blocks = [[m.group(2) for m in _FENCE.finditer(part) if m.group(1) == "bash"] for part in parts[::2]]
    return ByHand(blocks[0], {name.lower(): blocks[i + 1] for i, name in enumerate(parts[1::2])},
                  {m.group(1) for m in _FENCE.finditer(text)})


@dataclass
class HandRun:
    pushed: bool
    push_output: str
    found: bool = False
    read_output: str = ""
    reads: int = 0


def run_by_hand(preamble: list[str], push: str, read: str, env: dict[str, str], cwd: Path,
                read_for: float = 15.0) -> HandRun:
    """The preamble and the push in one bash (as pasted into one shell; `set -e`: a failed command fails
    the push), then the read with the variables the push set, repeated until it exits 0 or `read_for` s
    pass (a read-back may lag the push by a few seconds)."""
    strict = "set -euo pipefail\n"
    with tempfile.TemporaryDirectory() as scratch:  # not in the checkout: the environment holds the edge secret
        env_file = Path(scratch) / "env"
        script = strict + "set -a\n" + "\n".join([*preamble, push]) + f"\nset +a\nenv -0 > {shlex.quote(str(env_file))}\n"
        proc = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
        run = HandRun(proc.returncode == 0, proc.stdout + proc.stderr)
        if not run.pushed:
            return run
        after_push = dict(item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
    deadline = time.monotonic() + read_for
    while True:
        proc = subprocess.run(["bash", "-c", strict + read], cwd=cwd, env=after_push, capture_output=True, text=True,
                              timeout=60)
        run.reads += 1
        run.found, run.read_output = proc.returncode == 0, proc.stdout + proc.stderr
        if run.found or time.monotonic() > deadline:
            return run
        time.sleep(0.5)


def no_aws_credentials(tmp_path: Path) -> dict[str, str]:
    """The environment of a shell with no AWS credentials at all: no config or credentials file,
    no metadata service (this machine has none anyway; these keep it so wherever the tests run)."""
    return {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "eu-west-1"}
