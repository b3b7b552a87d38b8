"""The seeded AWS account of the reference stack: a moto server on a free loopback port,
seeded as the shipped Terraform would leave the account (seed.py: common.tfvars,
infra/routes.json, the IAM module's smoke policy), with IAM enforcement on, and credentials
of the read-only smoke role, which is what the smoke gate runs as.

    account = start_account()
    env = {**os.environ, **account.env}   # AWS_* credentials of the smoke role + endpoint
    ...  pytest -m "smoke and aws" --aws-endpoint-url account.endpoint_url ...
    account.close()

moto is not AWS; where it differs the account serves what AWS documents (fidelity.py),
each such response held to botocore's output shapes (shapes.py).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from . import seed as seeding


@dataclass
class Account:
    endpoint_url: str
    env: dict[str, str]  # credentials of the smoke role and where to send the calls
    seeded: seeding.Seeded = field(repr=False)
    _server: object = field(default=None, repr=False)
    _saved_env: dict = field(default_factory=dict, repr=False)

    def smoke_env(self, session: str = "lgtm-smoke-gate") -> dict[str, str]:
        """Fresh smoke-role credentials (a new STS session) in the same shape as `env`."""
        return {**self.env, **seeding.smoke_credentials(self.seeded, session)}

    def close(self) -> None:
        for key, value in self._saved_env.items():  # what attach_to() replaced
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        if self._server is not None:
            self._server.stop()
            self._server = None


def start_account(port: int = 0, enforce_iam: bool = True) -> Account:
    """Start and seed the account; IAM enforcement on unless `enforce_iam=False`."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per API call otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, bound = server.get_host_and_port()
        endpoint = f"http://{host}:{bound}"
        seeding.enforce_iam(False)
        seeded = seeding.seed(endpoint)
        seeding.enforce_iam(enforce_iam)
        env = {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_REGION": seeded.region,
            "LGTM_AWS_ENDPOINT_URL": endpoint,
            **seeding.smoke_credentials(seeded),
        }
    except BaseException:
        server.stop()
        raise
    return Account(endpoint, env, seeded, server)


def attach_to(config) -> Account:
    """For the reference stack's pytest plugin (`--devstack`, `lgtm-smoke demo`): start the
    account and point this run's AWS checks at it: `config.option.aws_endpoint_url` and the
    smoke role's credentials in this process's environment (restored by `close()`, which the
    plugin calls at unconfigure). The verdict then counts the AWS checks as run, not skipped."""
    account = start_account()
    config.option.aws_endpoint_url = account.endpoint_url
    config.option.skip_aws = False
    for key, value in account.env.items():
        account._saved_env.setdefault(key, os.environ.get(key))
        os.environ[key] = value
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):  # a user's profile would win over the env keys
        account._saved_env.setdefault(key, os.environ.pop(key, None))
    return account
