"""The pytest plugin (entry point `pytest11: lgtm_smoke`): hooks and fixtures only.

`pytest -m smoke --alb $ALB_DNS` runs the shipped suite (every `test_*.py` under
lgtm_smoke/backends/ and lgtm_smoke/aws/), resolves the run's settings once
(lgtm_smoke.settings), starts every check the selected tests name
(`@pytest.mark.check(checks.x)`) at once (lgtm_smoke.runner), hands each test its check's
evidence (`outcome` fixture) and renders one verdict (lgtm_smoke.verdict).

Loading this module must stay cheap (a pytest run that selects no smoke test pays for it):
it imports only pytest and lgtm_smoke.settings; everything else is imported when used.
"""
from __future__ import annotations

import dataclasses
import gc
import importlib
import importlib.util
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import settings as st

if TYPE_CHECKING:
    from .outcome import Check, Outcome  # noqa: F401 - Outcome: a type argument in a string below
    from .runner import Runner

PACKAGE = Path(__file__).resolve().parent
# The shipped suite: each backend's and each AWS area's runbook test files.
SUITE = (PACKAGE / "backends", PACKAGE / "aws")
MARKERS = {
    "smoke": "post-deploy smoke checks against a running stack (needs --alb or --devstack)",
    "check": "check(lgtm_smoke.outcome.Check): the check this test verifies; its evidence is the `outcome` fixture",
    "mimir": "metrics: everything the suite checks about Mimir",
    "loki": "logs: everything the suite checks about Loki",
    "tempo": "traces: everything the suite checks about Tempo",
    "pyroscope": "profiles: everything the suite checks about Pyroscope",
    "grafana": "Grafana itself, and each backend read through Grafana (datasource, proxy)",
    "alb": "the ALB itself: admin routes closed (from the listener rules), fixed 404, HTTPS redirect, edge auth",
    "alloy": "the collector path: Alloy's own metrics fresh in Mimir and its logs in Loki, under the tenant",
    "aws": "AWS resources via boto3 (ECS, ALB, S3, ElastiCache, Cloud Map)",
    "security": "tenant isolation, missing tenant, garbage ingest, auth, and the ALB's exposure and edge-auth checks",
    "preflight": "static checks over infra/ before deploy (no AWS, no network)",
    "slow": "long-running repetitions, not part of the default CI run",
}
OUTCOME_KEY = pytest.StashKey["Outcome"]()
RUNNER_KEY = pytest.StashKey["Runner"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    st.add_options(parser)  # --devstack / --fault: the reference stack's own plugin (lgtm_refstack)


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter reads the verbosity
def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.pluginmanager.register(Verdict(config), "lgtm_smoke_verdict")
    if not st.wants_smoke(config):
        return
    if config.option.verbose == 0:
        config.option.verbose = 1  # one live line per check, with its push→visible latency
    from .runner import loggers_safe_to_create_in_threads

    loggers_safe_to_create_in_threads()  # before any thread: the AWS prewarm starts in the next lines
    if importlib.util.find_spec("lgtm_smoke.aws.fixtures") is not None \
            and not config.pluginmanager.has_plugin("lgtm_smoke_aws"):  # today's AWS tests: hooks + fixtures
        config.pluginmanager.register(importlib.import_module("lgtm_smoke.aws.fixtures"), "lgtm_smoke_aws")
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # Explicit paths win; otherwise run the shipped suite, from any directory, and
        # nothing else (a checkout's own tests need the test extra; a user may not have it).
        config.args = [str(p) for p in SUITE]


def pytest_sessionstart(session: pytest.Session) -> None:
    if st.wants_smoke(session.config):
        st.get(session.config)  # bad input: one line, exit 4, before anything runs


def pytest_report_header(config: pytest.Config) -> list[str]:
    return st.report_header(config)


def _in_suite(item: pytest.Item) -> bool:
    path = Path(str(item.path))
    return any(folder in path.parents for folder in SUITE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _in_suite(item):  # everything in the shipped suite is a smoke check
            item.add_marker(pytest.mark.smoke)
        if item.get_closest_marker("check") is not None and "outcome" not in getattr(item, "fixturenames", ["outcome"]):
            item.fixturenames.insert(0, "outcome")  # type: ignore[attr-defined]  # verified even if unused


def check_of(item: pytest.Item) -> "Check | None":
    marker = item.get_closest_marker("check")
    if marker is None:
        return None
    if len(marker.args) != 1:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.check takes exactly one Check, got {marker.args!r}")
    check: Check = marker.args[0]
    return check


def _selected_checks(session: pytest.Session) -> list["Check"]:
    seen: dict[str, Check] = {}
    for item in session.items:
        check = check_of(item)
        if check is not None and item.get_closest_marker("skip") is None:  # --skip-aws marks them skipped
            seen.setdefault(check.id, check)
    return list(seen.values())


# --- fixtures: every setting, overridable in a conftest ---------------------------------
def _settings(config: pytest.Config) -> st.Settings:
    try:
        return st.get(config)
    except pytest.UsageError as e:
        pytest.fail(str(e), pytrace=False)


def _setting(name: str, attribute: str, doc: str) -> Any:
    """A session fixture `name` holding one resolved setting; a conftest overrides it by name."""

    def fixture(pytestconfig: pytest.Config) -> Any:
        return getattr(_settings(pytestconfig), attribute)

    fixture.__doc__ = doc
    return pytest.fixture(scope="session", name=name)(fixture)


lgtm_alb = _setting("lgtm_alb", "alb", "Where the ALB is (--alb / LGTM_ALB): an Alb; an override may return a URL.")
lgtm_tenant = _setting("lgtm_tenant", "tenant", "The X-Scope-OrgID the checks write and read with (--tenant).")
lgtm_run_id = _setting("lgtm_run_id", "run_id", "The 12 hex digits that mark this run's data (--run-id).")
lgtm_readback_timeout = _setting("lgtm_readback_timeout", "readback_timeout", "Seconds data has to become readable.")
lgtm_search_timeout = _setting("lgtm_search_timeout", "search_timeout", "Seconds a trace has to become searchable.")
lgtm_grafana_user = _setting("lgtm_grafana_user", "grafana_user", "The Grafana login (--grafana-user).")
lgtm_grafana_password = _setting("lgtm_grafana_password", "grafana_password",
                                 "The Grafana password as a Secret (never printed); an override may return a str.")
lgtm_edge_secret = _setting("lgtm_edge_secret", "edge_secret", "The edge secret sent as X-LGTM-Edge-Secret (a Secret).")
lgtm_tls_verify = _setting("lgtm_tls_verify", "verify", "requests' verify: the --ca-bundle path, True, or False "
                                                        "(--insecure).")


@pytest.fixture(scope="session")
def smoke_settings(pytestconfig: pytest.Config, lgtm_alb: Any, lgtm_tenant: str, lgtm_run_id: str,
                   lgtm_readback_timeout: float, lgtm_search_timeout: float, lgtm_grafana_user: str,
                   lgtm_grafana_password: Any, lgtm_edge_secret: Any, lgtm_tls_verify: bool | str) -> st.Settings:
    """The run's settings as the checks see them: the resolved ones with every override above."""
    alb = st.parse_alb(lgtm_alb, "lgtm_alb fixture") if isinstance(lgtm_alb, str) else lgtm_alb

    def secret(value: Any) -> st.Secret | None:
        return st.Secret(value) if isinstance(value, str) and value else value or None

    return dataclasses.replace(
        _settings(pytestconfig), alb=alb, tenant=lgtm_tenant, run_id=lgtm_run_id,
        readback_timeout=lgtm_readback_timeout, search_timeout=lgtm_search_timeout, grafana_user=lgtm_grafana_user,
        grafana_password=secret(lgtm_grafana_password), edge_secret=secret(lgtm_edge_secret),
        insecure=lgtm_tls_verify is False, ca_bundle=lgtm_tls_verify if isinstance(lgtm_tls_verify, str) else None)


smoke_config = smoke_settings  # the fixture's old name


@pytest.fixture(scope="session")
def smoke_runner(request: pytest.FixtureRequest, smoke_settings: st.Settings) -> "Runner":
    """Every check of the selected tests, started at once on first use (right after collection)."""
    from .backends.grafana.client import login
    from .http import Client
    from .preconditions import providers
    from .probe import ProbeContext
    from .runner import Preconditions, RedFlag, Runner

    config = request.config
    client = Client(smoke_settings.alb, smoke_settings.tenant, verify=smoke_settings.verify,
                    edge_secret=smoke_settings.edge_secret)
    aws_context = _aws_context(config)
    # the ALB rule checks read the listener rules from the AWS snapshot unless --listener-rules is given
    aws_snapshot = None if config.getoption("skip_aws", False) else lambda: aws_context(None).snapshot
    red = None if smoke_settings.wait_all else RedFlag()
    contexts = {"http": lambda check: ProbeContext(smoke_settings, client, check.id, aws=aws_snapshot, red=red),
                "aws": aws_context}
    runner = Runner(contexts, Preconditions(providers(smoke_settings, client, login)), red=red)
    config.stash[RUNNER_KEY] = runner
    # Everything loaded so far (modules, protobuf descriptors, the exposure catalogue, collected
    # items) lives until exit: freezing it keeps it out of every later collection, among them
    # the full gc.collect() pytest's unraisable-exception plugin runs twice at the end (~0.3 s
    # of a smoke run otherwise, measured in bench/verdict_speed.py).
    gc.freeze()
    runner.start(_selected_checks(request.session))
    return runner


def _aws_context(config: pytest.Config) -> Any:
    """kind "aws": `lgtm_smoke.aws.check_context(config)` (made once, in the first asker's
    thread) is what every aws check's fn gets, and whose snapshot the ALB rule checks read."""
    made: dict[str, Any] = {}
    lock = threading.Lock()

    def context(check: "Check | None") -> Any:
        with lock:  # the ALB rule checks and the first aws check may ask at once: one snapshot
            if "ctx" not in made:
                from . import aws

                make = getattr(aws, "check_context", None)
                if make is None:
                    raise NotImplementedError("lgtm_smoke.aws exports no check_context(config)")
                made["ctx"] = make(config)
        return made["ctx"]

    return context


@pytest.fixture
def outcome(request: pytest.FixtureRequest, smoke_runner: "Runner") -> dict[str, Any]:
    """The evidence of the check this test names (`@pytest.mark.check(checks.x)`). A blocked
    check errors here (JUnit error, naming the precondition); a failed one fails the test
    with the check's own one-line cause before the test body runs."""
    from .outcome import Status

    check = check_of(request.node)
    if check is None:
        pytest.fail(f"{request.node.nodeid} uses `outcome` without @pytest.mark.check(<Check>)", pytrace=False)
    result = smoke_runner.outcome(check)
    request.node.stash[OUTCOME_KEY] = result
    if result.status is Status.BLOCKED:
        pytest.fail(f"blocked by {result.blocked_by}: {result.cause}", pytrace=False)
    if result.status is Status.SKIPPED:
        pytest.skip(result.cause)
    return result.data


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    result = pyfuncitem.stash.get(OUTCOME_KEY, None)
    if result is not None and result.status.value == "failed":
        pytest.fail(f"[{result.check}] {st.redact(result.message())}", pytrace=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(RUNNER_KEY, None)
    if runner is not None:
        runner.close()


# --- the verdict -----------------------------------------------------------------------
def _area(item: pytest.Item) -> str:
    from .verdict.report import AREAS

    return next((a for a in AREAS if item.get_closest_marker(a)), "other")


SUITE_VERDICTS = (pytest.fail.Exception, pytest.skip.Exception, pytest.xfail.Exception)  # what the suite says itself


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    made = yield
    report = made.get_result()
    if not item.get_closest_marker("smoke"):
        return
    if report.failed and call.excinfo is not None and not isinstance(call.excinfo.value, SUITE_VERDICTS):
        from .runner import bug_line  # a crash in a shipped test: one line and a trace file, no traceback

        report.longrepr = bug_line(item.name, call.excinfo.value, str(report.longrepr))
    result = item.stash.get(OUTCOME_KEY, None)
    report.lgtm_area = result.area if result is not None else _area(item)
    report.lgtm_outcome = result
    if result is not None and report.when == "call":
        report.user_properties.append(("check", result.check))
        if result.latency is not None:
            report.user_properties.append(("push_to_visible_ms", f"{result.latency * 1000:.0f}"))


BLOCKED_LINE = re.compile(r"^\(blocked by ([\w.\-]+)\)$", re.M)
AWS_SIDE = ("mimir", "loki", "tempo", "pyroscope", "grafana", "alloy")  # areas with an ECS service behind them


def _add_aws_evidence(config: pytest.Config, records: list[Any]) -> None:
    """Beside each failing or blocked check of a backend: that backend's AWS side (target health,
    service events, last stopped task, log tail) when the run fetched AWS (lgtm_smoke.aws.fixtures
    .evidence_for). The verdict never fails because the evidence could not be had."""
    if importlib.util.find_spec("lgtm_smoke.aws.fixtures") is None:
        return
    evidence_for = getattr(importlib.import_module("lgtm_smoke.aws.fixtures"), "evidence_for", None)
    if evidence_for is None:
        return
    lines: dict[str, list[str]] = {}
    for r in records:
        if r.ok or r.backend not in AWS_SIDE:
            continue
        if r.backend not in lines:
            try:
                lines[r.backend] = [f"AWS: {st.redact(line)}" for line in evidence_for(config, r.backend)]
            except Exception as e:  # evidence is a courtesy: one line, never a traceback
                lines[r.backend] = [f"AWS: evidence unavailable ({type(e).__name__}: {str(e)[:120]})"]
        r.evidence.extend(lines[r.backend])


def _publish_cloudwatch(config: pytest.Config, checks: dict[str, "Check"], records: list[Any],
                        smoke: st.Settings) -> list[str]:
    """--publish-cloudwatch: the verdict per ECS service (verdict/services.py) into CloudWatch
    (verdict/cloudwatch.py), and the lines that say what was published and what is infra's.
    Without AWS credentials nothing is published (one line says so)."""
    from .verdict import cloudwatch, report, services

    per_service = services.tally(records, checks)
    lines = [f"lgtm-smoke per service ({cloudwatch.METRIC}, Source={smoke.publish_source}):",
             *(f"  {line}" for line in per_service.lines())]
    try:  # the AWS room makes the client (its region, endpoint and credential chain); imported by name, as above
        client, why_not = importlib.import_module("lgtm_smoke.aws.fixtures").metrics_publisher(config)
        describe_error = importlib.import_module("lgtm_smoke.aws.errors").describe_error
    except Exception as e:  # noqa: BLE001 - reporting never turns a verdict into a traceback
        client, why_not, describe_error = None, f"{type(e).__name__}: {str(e)[:160]}", None
    if client is None:
        lines.append(f"WARNING: --publish-cloudwatch: {why_not}: nothing published (the verdict stands)")
    else:
        lines.append(cloudwatch.publish(client, per_service.failed, smoke.cloudwatch_namespace, smoke.publish_source,
                                        describe_error))
    md = "\n".join(["", f"### Per service ({cloudwatch.METRIC}, Source={smoke.publish_source})", "",
                    *(f"- {line}" for line in per_service.lines()), f"- {lines[-1]}", ""])
    if smoke.summary_md:
        report.write(smoke.summary_md, md, append=True)
    step_summary = st.env("GITHUB_STEP_SUMMARY")
    if step_summary and step_summary != smoke.summary_md:
        report.write(step_summary, md, append=True)
    return lines


class Verdict:
    """Collects one record per smoke check and renders the verdict at the end."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.records: list[Any] = []
        self.started = time.monotonic()  # lgtm_smoke_run_duration_seconds counts from here
        self.checks: dict[str, Check] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.checks = {c.id: c for c in _selected_checks(session)}  # the per-service verdict reads their needs

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        area = getattr(report, "lgtm_area", None)
        if area is None or not (report.when == "call" or report.failed or report.skipped):
            return
        from .verdict.report import CheckRecord, first_line

        probe = getattr(report, "lgtm_outcome", None)
        outcome: str = report.outcome if report.when == "call" else ("skipped" if report.skipped else "error")
        cause, blocked_by, evidence = "", None, []
        if probe is not None and probe.status.value == "blocked":
            outcome, cause, blocked_by = "blocked", probe.cause, probe.blocked_by
        elif report.failed:
            cause = probe.cause if probe is not None and not probe.ok else first_line(report.longreprtext)
            evidence = list(probe.evidence) if probe is not None and not probe.ok else []
            interim = BLOCKED_LINE.search(report.longreprtext)  # the AWS room's aws_check fixture says it so
            if interim:
                outcome, blocked_by = "blocked", interim.group(1)
        elif report.skipped and isinstance(report.longrepr, tuple):
            cause = report.longrepr[2].removeprefix("Skipped: ")
        self.records.append(CheckRecord(
            check=report.nodeid.split("/")[-1], name=report.nodeid.split("::")[-1], backend=area, outcome=outcome,
            cause=st.redact(cause), push_ok=probe.push_ok if probe else None, read_ok=probe.read_ok if probe else None,
            latency_ms=probe.latency * 1000 if probe and probe.latency is not None else None,
            duration_ms=report.duration * 1000, probe=probe.check if probe else None, blocked_by=blocked_by,
            evidence=[st.redact(e) for e in evidence]))

    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        probe = getattr(report, "lgtm_outcome", None)
        if report.when == "call" and report.passed and probe is not None and probe.latency is not None:
            return "passed", ".", (f"PASSED (push→visible {probe.latency * 1000:.0f} ms)", {"green": True})
        return None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> Any:
        """The verdict last: tryfirst makes this the outermost wrapper, so pytest's own summaries
        (ERRORS, FAILURES, the short summary's one line per blocked check) and every other
        plugin's lines come before it, and a red run's last screen names its root causes."""
        result = yield
        smoke = config.stash.get(st.SETTINGS_KEY, None)
        if not self.records or smoke is None:
            return result
        from .verdict import report
        from .verdict.deliver import deliver

        _add_aws_evidence(config, self.records)
        meta = {"target": smoke.describe(), "run_id": smoke.run_id, "tenant": smoke.tenant, "alb": smoke.alb.base_url}
        for line in deliver(smoke, self.records, meta, time.monotonic() - self.started):
            terminalreporter.write_line(line)  # the --push-results outcome, above the verdict
        if smoke.publish_cloudwatch:  # the verdict per ECS service, above the verdict too
            for line in _publish_cloudwatch(config, self.checks, self.records, smoke):
                terminalreporter.write_line(line)
        terminalreporter.section("lgtm-smoke verdict")
        for line in report.terminal_lines(self.records, meta):
            terminalreporter.write_line(line)
        return result
