"""Run the shipped smoke suite as a user does (a pytest subprocess in a neutral directory)
and read its verdict back from the JUnit XML it writes."""
from __future__ import annotations

import itertools
import os
import secrets
import subprocess
import sys
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


def no_aws_credentials(tmp_path: Path) -> dict[str, str]:
    """The environment of a shell with no AWS credentials at all: no config or credentials file,
    no metadata service (this machine has none anyway; these keep it so wherever the tests run)."""
    return {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "eu-west-1"}
