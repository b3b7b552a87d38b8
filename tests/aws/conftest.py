"""The seeded AWS account of the reference stack (refstack/lgtm_refstack/aws: a moto server
with IAM enforcement on, seeded as the shipped Terraform leaves the account), and `run_aws` to
run the shipped AWS suite against it as the gate would: a pytest subprocess holding the smoke
role's credentials, whose policy is read from infra/terraform/modules/iam/smoke.tf.

The suite finds the ALB by name (`<project_name>-<environment>-alb` from common.tfvars)
because `--alb 127.0.0.1` is not an ELB DNS name: the plugin still requires a resolvable
--alb for any smoke run, and `-m "smoke and aws"` selects no HTTP probe, so nothing is sent
to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import run_pytest
from lgtm_refstack.aws import seed as seeding  # the reference stack's distribution (pip install -e refstack)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def account(aws_account):
    return aws_account  # tests/conftest.py: one seeded account per process


@pytest.fixture(scope="session")
def stack(account):
    """The whole stack, seeded once; fault tests mutate it and undo their change."""
    return account.seeded


def aws_env(account, credentials: bool = True) -> dict:
    env = {
        k: v
        for k, v in account.env.items()
        if not k.startswith("AWS_")
        or k in ("AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if credentials:
        env.update(account.smoke_env())
    return env


@pytest.fixture
def run_aws(account, stack, tmp_path):
    """run_aws(*extra, markexpr=..., credentials=True, env=None) -> harness.SmokeRun of the shipped suite."""

    def run(
        *extra: str,
        markexpr: str = "smoke and aws",
        credentials: bool = True,
        expect_tags: bool = True,
        env: dict | None = None,
    ):
        tags = ",".join(f"{svc}={stack.image_tag(svc)}" for svc in stack.images)
        return run_pytest(
            [
                "-m",
                markexpr,
                "--alb",
                "127.0.0.1",
                "--tfvars",
                str(seeding.TFVARS),
                "--aws-endpoint-url",
                stack.endpoint,
                *(["--expect-image-tag", tags] if expect_tags else []),
                *extra,
            ],
            tmp_path,
            env={**aws_env(account, credentials), **(env or {})},
            drop=("AWS_", "LGTM_"),
        )

    return run


def fetch_as_smoke(account, stack, on_response=None):
    """The suite's own fetch, in this process, as the smoke role: (snapshot, AWS settings).
    `on_response`: a botocore `before-parse` handler (e.g. shapes.recorder) for every answer."""
    import boto3

    from lgtm_smoke.aws import fetch
    from lgtm_smoke.aws import settings as aws_settings

    creds = account.smoke_env()
    session = boto3.session.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        region_name=stack.region,
    )
    if on_response is not None:
        session._session.register("before-parse", on_response)
    settings = aws_settings.resolve(
        {"aws_endpoint_url": stack.endpoint}.get, stack.tf, "127.0.0.1", stack.tf["tenant_id"]
    )
    return fetch.fetch(settings, session=session), settings
