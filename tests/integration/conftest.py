"""Run the shipped smoke suite, as a user would (a pytest subprocess), against one
reference stack per module with faults switched in between."""
from __future__ import annotations

import pytest
from harness import run_pytest
from lgtm_refstack.stack import ReferenceStack

TENANT = "t-integration"


@pytest.fixture(scope="module")
def stack():
    with ReferenceStack(tenants=(TENANT,)) as s:
        yield s


@pytest.fixture
def run_smoke(stack, tmp_path):
    """run_smoke(markexpr, faults=[], *extra, env={}) -> harness.SmokeRun, from a neutral directory."""

    def run(markexpr: str, faults=(), *extra: str, timeout: float = 3, env: dict | None = None):
        stack.set_faults(list(faults))
        return run_pytest(["-m", markexpr, "--alb", stack.url, "--tenant", TENANT, "--readback-timeout", str(timeout),
                           *stack.suite_args(), *extra], tmp_path, env=env)

    yield run
    stack.set_faults([])
