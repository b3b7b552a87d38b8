"""pytest hooks and fixtures of the AWS checks (registered by plugin.py as `lgtm_smoke_aws`).

The snapshot is fetched once per session, in a background thread started at collection
finish, so the AWS calls overlap with the HTTP probes; each AWS check (`lgtm_smoke/aws/
test_<area>.py`, `@pytest.mark.check(...)`) then runs over it in the plugin's runner, whose
context `check_context(config)` is. `--skip-aws` is the only way to skip them. Every wait is
bounded (fetch.DEADLINE). `evidence_for(config, backend)` is what the verdict puts beside a
failing check of that backend.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import pytest

from . import fetch
from . import settings as aws_settings_mod
from .evidence import Evidence
from .settings import AwsSettings
from .snapshot import AwsView, Snapshot

SKIP_REASON = "--skip-aws given: AWS resource checks not run"
SETTINGS_KEY = pytest.StashKey[AwsSettings]()
FUTURE_KEY = pytest.StashKey[Future]()
WAITED_KEY = pytest.StashKey[float]()
WAIT_SLACK = 15.0  # past the fetch's own deadline: the fetch thread itself is stuck


def _is_aws(item: pytest.Item) -> bool:
    return item.get_closest_marker("aws") is not None


def pytest_configure(config: pytest.Config) -> None:
    """When the run will most likely select aws checks, import boto3 and load the service models
    in the background now. The fetch itself waits for collection finish."""
    expr = " ".join((config.getoption("markexpr") or "").split())
    smoke_run = bool(
        config.getoption("alb", None)
        or config.getoption("devstack", False)
        or aws_settings_mod.cfg.env("LGTM_ALB")
        or "smoke" in expr.replace("not smoke", "")
    )
    if not smoke_run or config.getoption("skip_aws", False) or "not aws" in expr:
        return
    if expr in ("", "smoke") or "aws" in expr:
        fetch.prewarm()


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
        config.stash[FUTURE_KEY] = fetch.start(_settings(config))
    return result


def _run_settings(config: pytest.Config):
    """The run's settings (ALB, tenant, tfvars), resolved once by lgtm_smoke.settings."""
    from .. import settings

    return settings.get(config)


def _settings(config: pytest.Config) -> AwsSettings:
    if SETTINGS_KEY not in config.stash:
        smoke = _run_settings(config)
        config.stash[SETTINGS_KEY] = aws_settings_mod.resolve(
            config.getoption, smoke.tfvars, smoke.alb.host, smoke.tenant, smoke.tfvars_path
        )
    return config.stash[SETTINGS_KEY]


def check_context(config: pytest.Config) -> AwsView:
    """The ctx every `Check(kind="aws")` gets from the runner: the run's one snapshot (its
    fetch started at collection finish; waited for here, bounded) and the AWS settings."""
    settings = _settings(config)
    if config.getoption("skip_aws", False):  # the tests are skipped; the runner may still ask
        return AwsView(Snapshot(blocked=SKIP_REASON), settings)
    future = config.stash.get(FUTURE_KEY, None) or fetch.start(settings)
    config.stash[FUTURE_KEY] = future
    started = time.perf_counter()
    snapshot = wait(future)
    config.stash[WAITED_KEY] = time.perf_counter() - started
    return AwsView(snapshot, settings)


@pytest.fixture(scope="session")
def aws_settings(pytestconfig: pytest.Config) -> AwsSettings:
    """Where the stack is in AWS and what it should look like (options > env > tfvars)."""
    if pytestconfig.getoption("skip_aws", False):
        pytest.skip(SKIP_REASON)
    return _settings(pytestconfig)


def wait(future: Future) -> Snapshot:
    """The fetched snapshot, waiting at most fetch.DEADLINE + WAIT_SLACK seconds."""
    try:
        return future.result(timeout=fetch.DEADLINE + WAIT_SLACK)
    except FutureTimeout:
        return Snapshot(
            blocked=f"the AWS fetch did not finish within {fetch.DEADLINE + WAIT_SLACK:.0f} s: "
            "AWS unreachable or throttling hard; run again"
        )


@pytest.fixture(scope="session")
def aws_snapshot(pytestconfig: pytest.Config, aws_settings: AwsSettings) -> Snapshot:
    """Everything the AWS checks read, fetched once (started at collection finish)."""
    future = pytestconfig.stash.get(FUTURE_KEY, None) or fetch.start(aws_settings)
    pytestconfig.stash[FUTURE_KEY] = future
    started = time.perf_counter()
    snapshot = wait(future)
    pytestconfig.stash[WAITED_KEY] = time.perf_counter() - started
    return snapshot


def evidence(config: pytest.Config) -> Evidence | None:
    """The run's Evidence once its AWS fetch has finished (None: no fetch, or not done)."""
    future = config.stash.get(FUTURE_KEY, None)
    if future is None or not future.done() or future.exception() is not None:
        return None
    return Evidence(future.result(), _settings(config))


def evidence_for(config: pytest.Config, backend: str) -> list[str]:
    """What the verdict calls for a failing check of `backend` (mimir, loki, tempo, pyroscope,
    grafana, alloy): its AWS side, one line each; [] unless this run fetched AWS."""
    ev = evidence(config)
    return ev.lines(backend) if ev is not None else []


def metrics_publisher(config: pytest.Config):
    """(CloudWatch client, None) for --publish-cloudwatch, with the AWS checks' region, endpoint
    and credential chain; (None, the one line why not) when there is no region or no credentials
    (then nothing is published: missing data never rolls back). Also works under --skip-aws."""
    import boto3

    from .errors import NO_CREDENTIALS, NO_REGION

    settings = _settings(config)
    session = boto3.session.Session(region_name=settings.region)
    if not session.region_name:
        return None, NO_REGION
    if session.get_credentials() is None:
        return None, NO_CREDENTIALS
    return session.client("cloudwatch", endpoint_url=settings.endpoint_url), None


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    future = config.stash.get(FUTURE_KEY, None)
    if future is None or not future.done() or future.exception() is not None:
        return
    snap = future.result()
    waited = config.stash.get(WAITED_KEY, 0.0)
    terminalreporter.write_line(
        f"lgtm-smoke aws: {snap.calls} AWS API calls in {snap.seconds:.2f}s "
        f"(background from collection; tests waited {waited:.2f}s)"
    )
