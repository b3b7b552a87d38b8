"""The reference stack's pytest plugin (entry point `pytest11: lgtm_refstack`).

`--devstack` starts the local reference stack for the session, before anything reads the
run's settings (tryfirst `pytest_configure`), and points the suite at it by setting the option
dests lgtm-smoke's settings read: `alb`, `grafana_password`, `ca_bundle`, `edge_secret`,
`listener_rules` (and `tenant` when none was given). Options beat the environment there, so
`--devstack` always uses the stack's own Grafana password whatever LGTM_GRAFANA_PASSWORD says.
Loading this plugin costs one import of pytest: the stack's modules load only with --devstack.
"""
from __future__ import annotations

import os

import pytest

STACK_KEY = pytest.StashKey[object]()
DEV_TENANT = "lgtm-smoke-dev"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lgtm-refstack", "the local reference stack (lgtm-refstack)")
    group.addoption("--devstack", action="store_true",
                    help="start the local reference stack for this session and run the suite against it")
    group.addoption("--fault", action="append", default=[], metavar="NAME[=VALUE]",
                    help="with --devstack: inject a named fault (repeatable; `python -m lgtm_refstack --list-faults`)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    faults = config.getoption("fault")
    if not config.getoption("devstack"):
        if faults:
            raise pytest.UsageError("--fault needs --devstack: faults are injected into the local reference stack")
        return
    from .faults import FaultError
    from .nginx import ServiceStartError
    from .stack import ReferenceStack

    opt = config.option
    tenant = getattr(opt, "tenant", None) or os.environ.get("LGTM_TENANT") or DEV_TENANT
    try:
        stack = ReferenceStack(faults, tenants=(tenant,), tls=_suite_speaks_tls(config)).start()
    except FaultError as e:
        raise pytest.UsageError(f"--fault: {e}") from None
    except ServiceStartError as e:
        raise pytest.UsageError(f"--devstack: the reference stack did not start: {e}") from None
    config.stash[STACK_KEY] = stack
    config.add_cleanup(stack.stop)
    opt.alb, opt.tenant = stack.url, tenant
    opt.grafana_password = stack.grafana_password
    opt.edge_secret = stack.edge_secret
    opt.listener_rules = str(stack.listener_rules)
    if stack.ca_bundle is not None:
        opt.ca_bundle = str(stack.ca_bundle)
    if not (getattr(opt, "aws_endpoint_url", None) or os.environ.get("LGTM_AWS_ENDPOINT_URL")):
        opt.skip_aws = True  # no AWS account behind the stack


def _suite_speaks_tls(config: pytest.Config) -> bool:
    """HTTPS needs a suite that takes the stack's CA (--ca-bundle)."""
    return hasattr(config.option, "ca_bundle")


def pytest_report_header(config: pytest.Config) -> list[str]:
    stack = config.stash.get(STACK_KEY, None)
    if stack is None:
        return []
    faults = stack.faults.describe()
    return [f"reference stack up in {stack.started_in:.2f}s: ALB {stack.url}"
            + (f", faults: {', '.join(faults)}" if faults else "")]


@pytest.fixture(scope="session")
def reference_stack(pytestconfig: pytest.Config):
    """The running reference stack of a --devstack session (its faults, backends, state-change counts)."""
    stack = pytestconfig.stash.get(STACK_KEY, None)
    if stack is None:
        pytest.skip("needs --devstack")
    return stack
