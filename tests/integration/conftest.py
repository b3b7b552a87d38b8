"""Run the shipped smoke suite, as a user would (a pytest subprocess), against one
reference stack per module with faults switched in between."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lgtm_smoke.devstack.stack import ReferenceStack

TENANT = "t-integration"


@dataclass
class SmokeRun:
    returncode: int
    output: str
    passed: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # test name -> failure message
    skipped: set[str] = field(default_factory=set)
    files: dict[str, str] = field(default_factory=dict)  # report files written by the run


def parse_junit(path: Path) -> tuple[set[str], dict[str, str], set[str]]:
    passed, failed, skipped = set(), {}, set()
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name")
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is not None:
            failed[name] = (problem.get("message") or "") + "\n" + (problem.text or "")
        elif case.find("skipped") is not None:
            skipped.add(name)
        else:
            passed.add(name)
    return passed, failed, skipped


@pytest.fixture(scope="module")
def stack():
    with ReferenceStack(tenants=(TENANT,)) as s:
        yield s


@pytest.fixture
def run_smoke(stack, tmp_path):
    """run_smoke(markexpr, faults=[], *extra) -> SmokeRun, from a neutral directory."""

    def run(markexpr: str, faults=(), *extra: str, timeout: float = 3) -> SmokeRun:
        stack.set_faults(list(faults))
        junit = tmp_path / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-m", markexpr, "--alb", stack.url, "--tenant", TENANT,
               "--readback-timeout", str(timeout), "-q", "-p", "no:cacheprovider", "--junitxml", str(junit),
               *getattr(stack, "suite_args", lambda: [])(), *extra]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        result = SmokeRun(proc.returncode, proc.stdout + proc.stderr)
        if junit.exists():
            result.passed, result.failed, result.skipped = parse_junit(junit)
        result.files = {p.name: p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file()}
        return result

    yield run
    stack.set_faults([])
