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

import pytest

from harness import run_pytest
import seed as seeding  # tests/aws is on sys.path (rootdir-relative conftest, no package)

try:
    from moto.server import ThreadedMotoServer
except ImportError:  # pragma: no cover
    ThreadedMotoServer = None


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
    env = dict(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               PYTHONDONTWRITEBYTECODE="1")
    if credentials:
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing")
    return env


@pytest.fixture
def run_aws(stack, tmp_path):
    """run_aws(*extra, markexpr=..., credentials=True) -> harness.SmokeRun of the shipped suite."""

    def run(*extra: str, markexpr: str = "smoke and aws", credentials: bool = True, expect_tags: bool = True):
        tags = ",".join(f"{svc}={stack.image_tag(svc)}" for svc in stack.images)
        return run_pytest(["-m", markexpr, "--alb", "127.0.0.1", "--tfvars", str(seeding.TFVARS),
                           "--aws-endpoint-url", stack.endpoint, *(["--expect-image-tag", tags] if expect_tags else []),
                           *extra], tmp_path, env=aws_env(stack, credentials), drop=("AWS_", "LGTM_"))

    return run
