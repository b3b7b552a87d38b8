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
AWS_KEY = pytest.StashKey[object]()
AWS_FAILED_KEY = pytest.StashKey[str]()
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
    from .processes import ServiceStartError
    from .stack import ReferenceStack

    opt = config.option
    tenant = getattr(opt, "tenant", None) or os.environ.get("LGTM_TENANT") or DEV_TENANT
    try:
        stack = ReferenceStack(faults, tenants=(tenant,), tls=_suite_speaks_tls(config)).start()
    except FaultError as e:
        raise pytest.UsageError(f"--fault: {e}") from None
    except (ServiceStartError, ValueError) as e:
        raise pytest.UsageError(f"--devstack: the reference stack did not start: {e}") from None
    config.stash[STACK_KEY] = stack
    config.add_cleanup(stack.stop)
    opt.alb, opt.tenant = stack.url, tenant
    opt.grafana_password = stack.grafana_password
    opt.edge_secret = stack.edge_secret
    opt.listener_rules = str(stack.listener_rules)
    if stack.ca_bundle is not None:
        opt.ca_bundle = str(stack.ca_bundle)
        opt.alb_http = stack.http_url  # the plain-HTTP listener, which must redirect
    if not (getattr(opt, "skip_aws", False) or getattr(opt, "aws_endpoint_url", None)
            or os.environ.get("LGTM_AWS_ENDPOINT_URL")):
        _start_aws(config)


def _start_aws(config: pytest.Config) -> None:
    """The AWS half against the stack's own account: a moto server seeded as the shipped
    Terraform leaves it, called as the read-only smoke role (lgtm_refstack.aws, the aws room's).
    This session's AWS credentials become that role's, so no call can reach a real account."""
    import importlib.util

    opt = config.option
    if importlib.util.find_spec("lgtm_refstack.aws") is None:
        opt.skip_aws = True  # a stack without its seeded account: no AWS behind it
        return
    if not _selects_aws(config.getoption("markexpr") or ""):
        return  # `-m "smoke and not aws"` and the like: no AWS check runs, no account to start
    from .aws import start_account

    try:
        account = start_account()
    except Exception as e:  # noqa: BLE001 -- moto or the seed failed: the HTTP half still runs, AWS is skipped
        opt.skip_aws = True
        config.stash[AWS_FAILED_KEY] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]
        return
    config.add_cleanup(account.close)
    config.stash[AWS_KEY] = account
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(var, None)  # a profile or token from the shell must not outrank the smoke role's keys
    os.environ.update({k: v for k, v in account.env.items() if k != "LGTM_AWS_ENDPOINT_URL"})
    opt.aws_endpoint_url = account.endpoint_url


def _selects_aws(markexpr: str) -> bool:
    """Whether `-m markexpr` can select an AWS check (markers smoke + aws)."""
    if not markexpr.strip():
        return True
    from _pytest.mark.expression import Expression

    try:
        return Expression.compile(markexpr).evaluate(lambda name, **_: name in {"smoke", "aws"})
    except Exception:  # noqa: BLE001 -- pytest reports a bad -m itself; start the account to be safe
        return True


def _suite_speaks_tls(config: pytest.Config) -> bool:
    """HTTPS needs a suite that takes the stack's CA (--ca-bundle)."""
    return hasattr(config.option, "ca_bundle")


def pytest_report_header(config: pytest.Config) -> list[str]:
    stack = config.stash.get(STACK_KEY, None)
    if stack is None:
        return []
    faults = stack.faults.describe()
    return [f"reference stack up in {stack.started_in:.2f}s: ALB {stack.url}"
            + (f", faults: {', '.join(faults)}" if faults else ""), _aws_line(config)]


def _aws_line(config: pytest.Config) -> str:
    account = config.stash.get(AWS_KEY, None)
    if account is not None:
        return (f"AWS: the reference stack's local moto account at {account.endpoint_url} (seeded as the shipped "
                "Terraform leaves it), as the smoke role; no real AWS account is called")
    failed = config.stash.get(AWS_FAILED_KEY, None)
    if failed:
        return f"AWS: skipped: the reference stack's local moto account did not start ({failed})"
    if getattr(config.option, "skip_aws", False):
        return "AWS: skipped (--skip-aws, or no seeded account installed with the reference stack)"
    return f"AWS: {getattr(config.option, 'aws_endpoint_url', None) or 'the default AWS endpoints'}"


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    """Just above the verdict (which prints last): where the AWS half ran, so a green demo is never read
    as a real account's."""
    if config.stash.get(STACK_KEY, None) is not None:
        terminalreporter.write_line(_aws_line(config))


@pytest.fixture(scope="session")
def reference_stack(pytestconfig: pytest.Config):
    """The running reference stack of a --devstack session (its faults, backends, state-change counts)."""
    stack = pytestconfig.stash.get(STACK_KEY, None)
    if stack is None:
        pytest.skip("needs --devstack")
    return stack
