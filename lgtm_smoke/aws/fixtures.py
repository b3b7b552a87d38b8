"""pytest hooks and fixtures of the AWS checks (registered by plugin.py as `lgtm_smoke_aws`).

The snapshot is fetched once per session, in a background thread started at collection
finish, so the AWS calls overlap with the HTTP probes; each `aws` test then runs one pure
check over it. `--skip-aws` is the only way to skip them.
"""
from __future__ import annotations

import time
from concurrent.futures import Future

import pytest

from . import Missing, Snapshot
from . import discovery
from .discovery import AwsSettings

SKIP_REASON = "--skip-aws given: AWS resource checks not run"
SETTINGS_KEY = pytest.StashKey[AwsSettings]()
FUTURE_KEY = pytest.StashKey[Future]()
WAITED_KEY = pytest.StashKey[float]()


def _is_aws(item: pytest.Item) -> bool:
    return item.get_closest_marker("aws") is not None


def pytest_configure(config: pytest.Config) -> None:
    """When the run will most likely select aws checks (`-m smoke`, `-m "smoke and aws"`, or
    --alb with no -m), import boto3 and load the service models in the background now. The
    fetch itself waits for collection finish, where the run's settings are resolved."""
    from ..plugin import _wants_smoke

    expr = " ".join((config.getoption("markexpr") or "").split())
    if not _wants_smoke(config) or config.getoption("skip_aws", False) or "not aws" in expr:
        return
    if expr in ("", "smoke") or "aws" in expr:
        discovery.prewarm()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--skip-aws marks the aws checks skipped (with the reason); otherwise they run last, so
    the background fetch overlaps with the HTTP probes' read-backs instead of being waited on."""
    aws = [i for i in items if _is_aws(i)]
    if config.getoption("skip_aws", False):
        for item in aws:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))
    elif aws and len(aws) < len(items):
        items[:] = [i for i in items if not _is_aws(i)] + aws


@pytest.hookimpl(wrapper=True)
def pytest_collection_finish(session: pytest.Session):
    result = yield  # after plugin.py resolved the run settings (ALB, tenant, tfvars)
    config = session.config
    if not config.getoption("skip_aws", False) and any(_is_aws(i) for i in session.items):
        config.stash[FUTURE_KEY] = discovery.start(_settings(config))
    return result


def _settings(config: pytest.Config) -> AwsSettings:
    if SETTINGS_KEY not in config.stash:
        from ..plugin import CONFIG_KEY, resolve

        smoke = config.stash[CONFIG_KEY] if CONFIG_KEY in config.stash else resolve(config)
        config.stash[SETTINGS_KEY] = discovery.resolve(config.getoption, smoke.tfvars, smoke.alb.host,
                                                       smoke.tenant, smoke.tfvars_path)
    return config.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def aws_settings(pytestconfig: pytest.Config) -> AwsSettings:
    """Where the stack is in AWS and what it should look like (options > env > tfvars)."""
    if pytestconfig.getoption("skip_aws", False):
        pytest.skip(SKIP_REASON)
    return _settings(pytestconfig)


@pytest.fixture(scope="session")
def aws_snapshot(pytestconfig: pytest.Config, aws_settings: AwsSettings) -> Snapshot:
    """Everything the AWS checks read, fetched once (started at collection finish)."""
    future = pytestconfig.stash.get(FUTURE_KEY, None) or discovery.start(aws_settings)
    pytestconfig.stash[FUTURE_KEY] = future
    started = time.perf_counter()
    snapshot = future.result()
    pytestconfig.stash[WAITED_KEY] = time.perf_counter() - started
    return snapshot


@pytest.fixture
def aws_check(aws_snapshot: Snapshot, aws_settings: AwsSettings):
    """aws_check(check_fn): run one pure check over the snapshot; fail with its findings,
    one line each, or with the one line that says which fact could not be fetched."""

    def run(check, **kwargs) -> None:
        try:
            findings = check(aws_snapshot, aws_settings, **kwargs)
        except Missing as e:
            pytest.fail(str(e), pytrace=False)
        if findings:
            head = str(findings[0]) if len(findings) == 1 else f"{len(findings)} problems:"
            body = "" if len(findings) == 1 else "\n" + "\n".join(f"  - {f}" for f in findings)
            pytest.fail(head + body, pytrace=False)

    return run


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    future = config.stash.get(FUTURE_KEY, None)
    if future is None or not future.done() or future.exception() is not None:
        return
    snap = future.result()
    waited = config.stash.get(WAITED_KEY, 0.0)
    terminalreporter.write_line(f"lgtm-smoke aws: {snap.calls} AWS API calls in {snap.seconds:.2f}s "
                                f"(background from collection; tests waited {waited:.2f}s)")
