"""A moto server on a free loopback port, seeded once with the whole stack (tests/aws/seed.py),
and `run_aws` to run the shipped AWS suite against it as on-call would: a pytest subprocess.

The suite finds the ALB by name (`<project_name>-<environment>-alb` from common.tfvars)
because `--alb 127.0.0.1` is not an ELB DNS name: the plugin still requires a resolvable
--alb for any smoke run, and `-m "smoke and aws"` selects no HTTP probe, so nothing is sent
to it.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest

import seed as seeding  # tests/aws is on sys.path (rootdir-relative conftest, no package)

try:
    from moto.server import ThreadedMotoServer
except ImportError:  # pragma: no cover
    ThreadedMotoServer = None


@dataclass
class AwsRun:
    returncode: int
    output: str
    seconds: float
    passed: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # test name -> failure message
    skipped: dict[str, str] = field(default_factory=dict)  # test name -> reason


def parse_junit(path) -> tuple[set[str], dict[str, str], dict[str, str]]:
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


@pytest.fixture(scope="session")
def moto_endpoint():
    if ThreadedMotoServer is None:
        pytest.fail("moto is not installed: pip install -e '.[test]'")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per API call otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def stack(moto_endpoint):
    """The whole stack, seeded once; fault tests mutate it and undo their change."""
    import requests

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=5)
    return seeding.seed(moto_endpoint)


def aws_env(stack, credentials: bool = True) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LGTM_"))}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               PYTHONDONTWRITEBYTECODE="1")
    if credentials:
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing")
    return env


@pytest.fixture
def run_aws(stack, tmp_path):
    """run_aws(*extra, markexpr=..., credentials=True) -> AwsRun of the shipped suite."""

    def run(*extra: str, markexpr: str = "smoke and aws", credentials: bool = True,
            expect_tags: bool = True) -> AwsRun:
        junit = tmp_path / "junit.xml"
        junit.unlink(missing_ok=True)
        tags = ",".join(f"{svc}={stack.image_tag(svc)}" for svc in stack.images)
        cmd = [sys.executable, "-m", "pytest", "-m", markexpr, "--alb", "127.0.0.1", "--tfvars", str(seeding.TFVARS),
               "--aws-endpoint-url", stack.endpoint, "-q", "-p", "no:cacheprovider",
               "-p", "no:hypothesispytest",  # an unrelated plugin in this env: 0.7 s of imports per run
               "--junitxml", str(junit),
               *(["--expect-image-tag", tags] if expect_tags else []), *extra]
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env=aws_env(stack, credentials))
        result = AwsRun(proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - started)
        if junit.exists():
            result.passed, result.failed, result.skipped = parse_junit(junit)
        return result

    return run
