"""The pytest plugin (entry point `pytest11: lgtm_smoke`).

`pytest -m smoke --alb $ALB_DNS` finds the shipped smoke suite, resolves the run's
settings once, starts every selected probe concurrently, and hands each test its own
probe's outcome. Selecting smoke tests without an ALB is a usage error (exit 4).
"""
from __future__ import annotations

import importlib
import socket
import time
from pathlib import Path

import pytest

from . import config as cfg
from .config import SmokeConfig, UsageError

SMOKE_DIR = Path(__file__).resolve().parent / "smoke"
MARKERS = {
    "smoke": "post-deploy smoke checks against a running stack (needs --alb or --devstack)",
    "mimir": "metrics: remote write to Mimir and PromQL read-back",
    "loki": "logs: Loki push and LogQL read-back",
    "tempo": "traces: OTLP to Tempo and trace read-back",
    "pyroscope": "profiles: pprof to Pyroscope and read-back",
    "grafana": "Grafana health, login and datasources",
    "aws": "AWS resources via boto3 (ECS, ALB, S3, ElastiCache, Cloud Map)",
    "security": "tenant isolation, auth and exposed endpoints",
    "preflight": "static checks over infra/ before deploy (no AWS, no network)",
    "slow": "long-running repetitions, not part of the default CI run",
}
CONFIG_KEY = pytest.StashKey[SmokeConfig]()
RUNNER_KEY = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lgtm-smoke", "LGTM stack smoke tests")
    group.addoption("--alb", help="ALB DNS name, host:port or URL (env LGTM_ALB)")
    group.addoption("--tenant", help="X-Scope-OrgID of the stack (env LGTM_TENANT; default: tenant_id in common.tfvars)")
    group.addoption("--readback-timeout", help="seconds to wait for pushed data to become readable (env LGTM_READBACK_TIMEOUT; default 30)")
    group.addoption("--search-timeout", help="deadline of the TraceQL search check, which lags ingest by design (env LGTM_TEMPO_SEARCH_TIMEOUT; default 60 s)")
    group.addoption("--run-id", help="12 hex digits identifying this run's data (env LGTM_RUN_ID; default random)")
    group.addoption("--tfvars", help="the stack's common.tfvars for defaults (env LGTM_TFVARS; default infra/terraform/environments/prod/common.tfvars when present)")
    group.addoption("--grafana-user", help="Grafana login for the grafana checks (env LGTM_GRAFANA_USER; default admin)")
    group.addoption("--grafana-password", help="Grafana password (env LGTM_GRAFANA_PASSWORD, preferred: command lines show in ps; with --devstack: the stack's). Never printed")
    group.addoption("--summary-md", metavar="PATH", help="write the verdict as Markdown (also appended to $GITHUB_STEP_SUMMARY when set)")
    group.addoption("--report-json", metavar="PATH", help="write the verdict as JSON (check, backend, outcome, latency, cause, run id, tenant, ALB)")
    group.addoption("--push-results", action="store_true", help="remote-write the run's outcome (lgtm_smoke_* series) to Mimir through the ALB with the run's tenant (env LGTM_PUSH_RESULTS=1)")
    aws = parser.getgroup("lgtm-smoke-aws", "LGTM stack AWS checks (marker aws; defaults from common.tfvars)")
    aws.addoption("--skip-aws", dest="skip_aws", action="store_true", help="skip the AWS resource checks (the only way to skip them)")
    aws.addoption("--region", dest="aws_region", help="AWS region (env AWS_REGION / AWS_DEFAULT_REGION; default aws_region in tfvars)")
    aws.addoption("--aws-endpoint-url", dest="aws_endpoint_url", help="send AWS API calls here, e.g. a moto server (env LGTM_AWS_ENDPOINT_URL)")
    aws.addoption("--alb-name", dest="aws_alb_name", help="the ALB's name when --alb is not its ELB DNS name (env LGTM_ALB_NAME; default <project_name>-<environment>-alb)")
    aws.addoption("--cluster", dest="aws_cluster", help="ECS cluster (env LGTM_ECS_CLUSTER; default ecs_cluster_name in tfvars)")
    aws.addoption("--data-bucket", dest="aws_data_bucket", help="S3 data bucket (env LGTM_DATA_BUCKET; default data_bucket in tfvars)")
    aws.addoption("--state-bucket", dest="aws_state_bucket", help="Terraform state bucket (env LGTM_STATE_BUCKET; default state_bucket in tfvars)")
    aws.addoption("--services", dest="aws_services", help="comma list of ECS services to check (env LGTM_SERVICES; default grafana,mimir,loki,tempo,pyroscope,alloy)")
    aws.addoption("--cloudmap-namespace", dest="aws_cloudmap_namespace", help="Cloud Map namespace (env LGTM_CLOUDMAP_NAMESPACE; default cloudmap_namespace in tfvars)")
    aws.addoption("--memcached-cluster", dest="aws_memcached_cluster", help="ElastiCache memcached cluster id (env LGTM_MEMCACHED_CLUSTER; default memcached_cluster_id in tfvars)")
    aws.addoption("--expect-image-tag", dest="aws_expect_image_tag", metavar="TAG|SVC=TAG,...", help="running images must have this tag (env LGTM_EXPECT_IMAGE_TAG)")
    aws.addoption("--expect-image-digest", dest="aws_expect_image_digest", metavar="DIGEST|SVC=DIGEST,...", help="running images must have this digest (env LGTM_EXPECT_IMAGE_DIGEST)")
    aws.addoption("--stopped-window-minutes", dest="aws_stopped_window", help="report tasks stopped for health checks / container exits this recently (env LGTM_STOPPED_WINDOW_MINUTES; default 30)")


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter reads the verbosity
def pytest_configure(config: pytest.Config) -> None:
    if _wants_smoke(config) and config.option.verbose == 0:
        config.option.verbose = 1  # one live line per check, with its push→visible latency
    if not config.pluginmanager.has_plugin("lgtm_smoke_aws"):  # AWS checks: hooks + fixtures
        config.pluginmanager.register(importlib.import_module("lgtm_smoke.aws.fixtures"), "lgtm_smoke_aws")
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.pluginmanager.register(Verdict(config), "lgtm_smoke_verdict")
    if _wants_smoke(config) and config.args_source != pytest.Config.ArgsSource.ARGS:
        # Explicit paths win; otherwise run the shipped suite, from any directory, and
        # nothing else (a checkout's own tests need the test extra; a user may not have it).
        config.args = [str(SMOKE_DIR)]


def _wants_smoke(config: pytest.Config) -> bool:
    # --devstack belongs to the lgtm-refstack plugin, which sets --alb to its stack
    return bool(config.getoption("alb") or cfg.env("LGTM_ALB") or config.getoption("devstack", False)
                or "smoke" in (config.getoption("markexpr") or ""))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:  # everything in the shipped suite is a smoke check
        if SMOKE_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.smoke)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    items = [i for i in session.items if i.get_closest_marker("smoke")]
    if not items:
        return
    config = session.config
    smoke = resolve(config)
    config.stash[CONFIG_KEY] = smoke
    from .http import Client
    from .probes import Runner, load_all

    registry = load_all()
    runner = Runner(smoke, Client(smoke.alb, smoke.tenant))
    config.stash[RUNNER_KEY] = runner
    wanted = {spec.id for spec in registry.values() for item in items if spec.fixture_name in item.fixturenames}
    runner.start(sorted(wanted))


def resolve(config: pytest.Config) -> SmokeConfig:
    """Options > environment > tfvars > defaults; UsageError (exit 4) on bad input."""
    opt = config.getoption
    tfvars_path = cfg.find_tfvars(opt("tfvars") or cfg.env("LGTM_TFVARS"), Path(str(config.invocation_params.dir)))
    tfvars = cfg.load_tfvars(tfvars_path)
    alb_raw, alb_src = opt("alb"), "--alb"
    if not alb_raw and cfg.env("LGTM_ALB"):
        alb_raw, alb_src = cfg.env("LGTM_ALB"), "LGTM_ALB"
    if not alb_raw:
        raise UsageError("smoke tests need the ALB: pass --alb <ALB DNS name> (or set LGTM_ALB), "
                         "or --devstack for the local reference stack")
    alb = cfg.parse_alb(alb_raw, alb_src)
    _check_resolves(alb)
    tenant_raw, tenant_src = opt("tenant"), "--tenant"
    if not tenant_raw:
        tenant_raw, tenant_src = cfg.env("LGTM_TENANT"), "LGTM_TENANT"
    if not tenant_raw and tfvars.get("tenant_id"):
        tenant_raw, tenant_src = str(tfvars["tenant_id"]), f"tenant_id in {tfvars_path}"
    tenant = cfg.parse_tenant(tenant_raw, tenant_src)
    timeout_raw = opt("readback_timeout") or cfg.env("LGTM_READBACK_TIMEOUT") or 30
    timeout = cfg.parse_timeout(timeout_raw, "--readback-timeout" if opt("readback_timeout") else "LGTM_READBACK_TIMEOUT")
    search_raw = opt("search_timeout") or cfg.env("LGTM_TEMPO_SEARCH_TIMEOUT")
    search_timeout = (cfg.parse_timeout(search_raw, "--search-timeout" if opt("search_timeout") else "LGTM_TEMPO_SEARCH_TIMEOUT")
                      if search_raw else max(60.0, timeout))
    run_raw = opt("run_id") or cfg.env("LGTM_RUN_ID")
    run_id = cfg.parse_run_id(run_raw) if run_raw else cfg.new_run_id()
    return SmokeConfig(alb=alb, tenant=tenant, readback_timeout=timeout, search_timeout=search_timeout, run_id=run_id,
                       tfvars_path=tfvars_path, tfvars=tfvars, extra={"grafana": _grafana_credentials(config)})


def _grafana_credentials(config: pytest.Config):
    from .checks.grafana import GrafanaCredentials

    user = config.getoption("grafana_user") or cfg.env("LGTM_GRAFANA_USER") or "admin"
    password, source = config.getoption("grafana_password"), "--grafana-password"
    if not password and cfg.env("LGTM_GRAFANA_PASSWORD"):
        password, source = cfg.env("LGTM_GRAFANA_PASSWORD"), "LGTM_GRAFANA_PASSWORD"
    return GrafanaCredentials(user, password or None, source if password else None)


def _check_resolves(alb: cfg.Alb) -> None:
    """A typo in --alb is a usage error, found once, not in every check."""
    try:
        socket.getaddrinfo(alb.host, alb.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise UsageError(f"cannot resolve ALB host {alb.host!r}: check --alb (the ALB's DNS name from "
                         "`terraform output alb_dns_name`)") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(RUNNER_KEY, None)
    if runner is not None:
        runner.close()


# --- the verdict -----------------------------------------------------------------------
def _area(item: pytest.Item) -> str:
    from .report import AREAS

    return next((a for a in AREAS if item.get_closest_marker(a)), "other")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    if not item.get_closest_marker("smoke"):
        return
    report.lgtm_area = _area(item)
    runner = item.config.stash.get(RUNNER_KEY, None)
    for pid in getattr(runner, "outcomes", {}):
        from .probes import REGISTRY

        if REGISTRY[pid].fixture_name in item.fixturenames:
            probe = runner.outcomes[pid]
            report.lgtm_probe = probe
            if report.when == "call":
                report.user_properties.append(("probe", pid))
                if probe.latency is not None:
                    report.user_properties.append(("push_to_visible_ms", f"{probe.latency * 1000:.0f}"))


class Verdict:
    """Collects one record per smoke check and renders the verdict at the end."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.records: list = []
        self.started = time.monotonic()  # lgtm_smoke_run_duration_seconds counts from here

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        area = getattr(report, "lgtm_area", None)
        if area is None or not (report.when == "call" or report.failed or report.skipped):
            return
        from .report import CheckRecord, first_line

        probe = getattr(report, "lgtm_probe", None)
        outcome = report.outcome if report.when == "call" else ("skipped" if report.skipped else "error")
        cause = ""
        if report.failed:
            cause = probe.cause if probe is not None and not probe.ok else first_line(report.longreprtext)
        elif report.skipped and isinstance(report.longrepr, tuple):
            cause = report.longrepr[2].removeprefix("Skipped: ")
        self.records.append(CheckRecord(
            check=report.nodeid.split("/")[-1], name=report.nodeid.split("::")[-1], backend=area, outcome=outcome,
            cause=cause, push_ok=probe.push_ok if probe else None, read_ok=probe.read_ok if probe else None,
            latency_ms=probe.latency * 1000 if probe and probe.latency is not None else None,
            duration_ms=report.duration * 1000, probe=probe.check if probe else None))

    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config):
        probe = getattr(report, "lgtm_probe", None)
        if report.when == "call" and report.passed and probe is not None and probe.latency is not None:
            return "passed", ".", (f"PASSED (push→visible {probe.latency * 1000:.0f} ms)", {"green": True})
        return None

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config: pytest.Config) -> None:
        smoke = config.stash.get(CONFIG_KEY, None)
        if not self.records or smoke is None:
            return
        from . import report

        meta = {"target": smoke.describe(), "run_id": smoke.run_id, "tenant": smoke.tenant, "alb": smoke.alb.base_url}
        terminalreporter.section("lgtm-smoke verdict")
        for line in report.terminal_lines(self.records, meta):
            terminalreporter.write_line(line)
        md = report.markdown(self.records, meta)
        if config.getoption("summary_md"):
            report.write(config.getoption("summary_md"), md)
        step_summary = cfg.env("GITHUB_STEP_SUMMARY")
        if step_summary and step_summary != config.getoption("summary_md"):
            report.write(step_summary, md, append=True)
        if config.getoption("report_json"):
            report.write(config.getoption("report_json"), report.json_report(self.records, meta))
        if config.getoption("push_results") or (cfg.env("LGTM_PUSH_RESULTS") or "").lower() in ("1", "true", "yes"):
            from .http import Client
            from .results_push import push

            client = Client(smoke.alb, smoke.tenant)
            try:
                terminalreporter.write_line(push(client, self.records, report.verdict(self.records)[0],
                                                 time.monotonic() - self.started))
            finally:
                client.close()


# --- fixtures -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def smoke_config(pytestconfig: pytest.Config) -> SmokeConfig:
    """The resolved run settings (ALB, tenant, run id, timeouts, tfvars)."""
    try:
        return pytestconfig.stash[CONFIG_KEY]
    except KeyError:
        pytest.fail("smoke_config is only available to smoke tests (mark them `smoke`)", pytrace=False)


@pytest.fixture(scope="session")
def smoke_runner(pytestconfig: pytest.Config):
    return pytestconfig.stash[RUNNER_KEY]


@pytest.fixture(scope="session")
def alb_client(smoke_runner):
    """The pooled HTTP client to the ALB, sending the run's tenant."""
    return smoke_runner.client


class ProbeHandle:
    """What a smoke test gets for its probe: `verify()` waits for it and returns evidence."""

    def __init__(self, runner, pid: str):
        self.runner, self.id = runner, pid

    def verify(self) -> dict:
        outcome = self.runner.outcome(self.id)
        if not outcome.ok:
            pytest.fail(f"[{self.id}] {outcome.message()}", pytrace=False)
        return outcome.evidence


def _probe_fixture(spec):
    @pytest.fixture(name=spec.fixture_name)
    def handle(smoke_runner) -> ProbeHandle:
        return ProbeHandle(smoke_runner, spec.id)

    handle.__doc__ = f"Probe {spec.id} ({spec.backend}): started at collection, verified in the test."
    return handle


def _register_probe_fixtures() -> None:
    from .probes import load_all

    for spec in load_all().values():
        globals()[f"_fixture_{spec.fixture_name}"] = _probe_fixture(spec)


_register_probe_fixtures()
