"""Run the shipped smoke suite, as a user would (a pytest subprocess), against one
reference stack per module with faults switched in between."""
from __future__ import annotations

import pytest
from harness import run_pytest
from lgtm_refstack.stack import ReferenceStack

TENANT = "t-integration"


@pytest.fixture(scope="module")
def stack_options() -> dict:
    """More ReferenceStack arguments; a module overrides this fixture (the canary's rule files)."""
    return {}


@pytest.fixture(scope="module")
def stack(stack_options):
    # Tempo's real search lag (5-15 s) shortened: the fault matrix runs the suite once per fault.
    with ReferenceStack(tenants=(TENANT,), tempo_search_lag=0.3, **stack_options) as s:
        yield s


@pytest.fixture
def run_smoke(stack, tmp_path):
    """run_smoke(markexpr, faults=[], *extra, env={}) -> harness.SmokeRun, from a neutral directory."""

    def run(markexpr: str, faults=(), *extra: str, timeout: float = 3, env: dict | None = None):
        stack.set_faults(list(faults))
        return run_pytest(["-m", markexpr, "--alb", stack.url, "--tenant", TENANT, "--readback-timeout", str(timeout),
                           *stack.suite_args(), *extra], tmp_path, env={**stack.suite_env(), **(env or {})})

    yield run
    stack.set_faults([])
