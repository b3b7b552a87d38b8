"""The fault matrix: the proof that every check can fail, and fails for the right reason.

For every fault the reference stack knows, the whole smoke suite (all but the AWS checks,
which tests/aws/test_aws_faults.py proves the same way against moto) runs once; the set of
failing checks must be exactly the one written here — a miss or an extra failure fails the
matrix. The expected sets are spelled out from what each check touches, so a reader can
check them against the stack's design, not against a recording.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from harness import run_pytest
from lgtm_refstack.faults import KNOWN
from lgtm_refstack.stack import ReferenceStack

import lgtm_smoke

MARK = "smoke and not aws"
BACKENDS = ("mimir", "loki", "tempo", "pyroscope")

# --- what each check touches --------------------------------------------------------------
# The checks that reach a backend through the ALB, per backend (its routes).
VIA_ALB = {
    "mimir": {"test_remote_write_sample_reads_back_exactly", "test_mimir_tenant_cannot_read_another_tenants_metrics",
              "test_mimir_rejects_writes_without_tenant", "test_mimir_answers_garbage_with_4xx_and_keeps_serving",
              "test_mimir_data_reads_back_through_grafana_proxy"},
    "loki": {"test_json_push_reads_back_exactly", "test_protobuf_push_reads_back_exactly",
             "test_loki_tenant_cannot_read_another_tenants_logs", "test_loki_rejects_pushes_without_tenant",
             "test_loki_answers_garbage_with_4xx_and_keeps_serving", "test_loki_data_reads_back_through_grafana_proxy"},
    "pyroscope": {"test_pprof_ingest_reads_back_exactly", "test_connect_push_reads_back_exactly",
                  "test_pyroscope_tenant_cannot_read_another_tenants_profiles",
                  "test_pyroscope_rejects_profiles_without_tenant",
                  "test_pyroscope_answers_garbage_with_4xx_and_keeps_serving",
                  "test_pyroscope_data_reads_back_through_grafana_proxy"},
}
# Tempo has two routes: OTLP in (/v1/traces → 4318) and its API out (/tempo/* → 3200, rewritten).
TEMPO_OTLP = {"test_trace_is_readable_by_id", "test_trace_is_found_by_traceql_search",
              "test_tempo_tenant_cannot_read_another_tenants_traces", "test_tempo_otlp_rejects_traces_without_tenant",
              "test_tempo_answers_garbage_with_4xx_and_keeps_serving", "test_tempo_data_reads_back_through_grafana_proxy"}
TEMPO_API = {"test_trace_is_readable_by_id", "test_trace_is_found_by_traceql_search",
             "test_tempo_tenant_cannot_read_another_tenants_traces", "test_tempo_query_rejects_requests_without_tenant",
             "test_tempo_answers_garbage_with_4xx_and_keeps_serving"}
VIA_ALB["tempo"] = TEMPO_OTLP | TEMPO_API
# Grafana reaches each backend directly (Cloud Map), not through the ALB.
DATASOURCE = {b: f"test_{b}_datasource_has_tenant_header_and_is_healthy" for b in BACKENDS}
PROXY_READ = {b: f"test_{b}_data_reads_back_through_grafana_proxy" for b in BACKENDS}
GRAFANA = {"test_health_reports_database_ok", "test_grafana_refuses_default_admin_password",
           "test_grafana_anonymous_access_is_off", *DATASOURCE.values(), *PROXY_READ.values()}
ISOLATION = {"mimir": "test_mimir_tenant_cannot_read_another_tenants_metrics",
             "loki": "test_loki_tenant_cannot_read_another_tenants_logs",
             "tempo": "test_tempo_tenant_cannot_read_another_tenants_traces",
             "pyroscope": "test_pyroscope_tenant_cannot_read_another_tenants_profiles"}
NO_TENANT = {"mimir": {"test_mimir_rejects_writes_without_tenant"},
             "loki": {"test_loki_rejects_pushes_without_tenant"},
             "tempo": {"test_tempo_otlp_rejects_traces_without_tenant", "test_tempo_query_rejects_requests_without_tenant"},
             "pyroscope": {"test_pyroscope_rejects_profiles_without_tenant"}}
# Checks whose verdict waits for pushed data to become readable.
READ_BACK = {"test_remote_write_sample_reads_back_exactly", "test_json_push_reads_back_exactly",
             "test_protobuf_push_reads_back_exactly", "test_trace_is_readable_by_id",
             "test_trace_is_found_by_traceql_search", "test_pprof_ingest_reads_back_exactly",
             "test_connect_push_reads_back_exactly", *ISOLATION.values(), *PROXY_READ.values()}

# The collector checks (lgtm_smoke/backends/alloy, the alb room's): read what the shipped
# suite holds, so the matrix follows them as they land.
ALLOY_TESTS = Path(lgtm_smoke.__file__).parent / "backends" / "alloy" / "test_alloy.py"
ALLOY = set(re.findall(r"^def (test_\w+)", ALLOY_TESTS.read_text(), re.MULTILINE)) if ALLOY_TESTS.is_file() else set()

# The ALB checks (lgtm_smoke/backends/alb, the alb room's) prove what the ALB faults break:
# until they are in the shipped suite, those faults are skipped here, not counted green.
ALB_TESTS = Path(lgtm_smoke.__file__).parent / "backends" / "alb" / "test_alb.py"
ALB = set(re.findall(r"^def (test_\w+)", ALB_TESTS.read_text(), re.MULTILINE)) if ALB_TESTS.is_file() else set()
EDGE_AUTH = {t for t in ALB if t.endswith("_refuses_unauthenticated_write_and_read")}
# The collector reads Mimir (metrics) and Loki (logs); an edge-auth probe whose path is not routed
# at all is blocked by that backend's target group.
ALLOY_OF = {"mimir": {t for t in ALLOY if "mimir" in t}, "loki": {t for t in ALLOY if "loki" in t}}
EDGE_OF = {b: {t for t in EDGE_AUTH if t.startswith(f"test_{b}_")} for b in BACKENDS}
# admin-endpoint-exposed widens Mimir's rule to /config, /ingester/flush, /ingester/shutdown: the
# listener rules show it (nothing is called).
ADMIN = {t for t in ALB if t == "test_mimir_admin_routes_closed_at_the_alb"}
ALB_FAULTS: dict[str, set[str]] = {
    "tempo-admin-via-prefix": {"test_tempo_admin_routes_closed_at_the_alb", "test_unknown_paths_get_the_albs_fixed_404"},
    "alb-forwards-unknown-paths": {"test_unknown_paths_get_the_albs_fixed_404", "test_grafana_admin_routes_closed_at_the_alb"},
    "http-not-redirected": {"test_plain_http_redirects_to_https"},
    "edge-auth-off": EDGE_AUTH,
}

MATRIX: dict[str, set[str]] = {
    **{f"{b}-route-404": VIA_ALB[b] | EDGE_OF[b] | ALLOY_OF.get(b, set()) for b in ("mimir", "loki", "pyroscope")},
    **{f"{b}-down": VIA_ALB[b] | {DATASOURCE[b]} | ALLOY_OF.get(b, set()) for b in BACKENDS},
    **{f"{b}-no-auth": NO_TENANT[b] for b in BACKENDS},
    "pyroscope-anonymous": NO_TENANT["pyroscope"] | {ISOLATION["pyroscope"]},  # with a tenant too: all in anonymous
    "tempo-otlp-misrouted": TEMPO_OTLP,
    "tempo-prefix-not-stripped": TEMPO_API,
    "tenant-leak": set(ISOLATION.values()),
    "grafana-down": GRAFANA,
    "grafana-default-password": {"test_grafana_refuses_default_admin_password"},
    "grafana-anonymous": {"test_grafana_anonymous_access_is_off"},
    "grafana-datasource-no-tenant": {DATASOURCE["loki"], PROXY_READ["loki"]},
    "admin-endpoint-exposed": ADMIN,
    "ingest-5xx-on-garbage": {"test_mimir_answers_garbage_with_4xx_and_keeps_serving"},
    "slow-ingest=0.3": set(),  # late data within the deadline is not a failure
    # every read-back fails at its 1 s deadline; the search (its own 2 s deadline) is still waiting
    # when they do, so it is "not waited for" (NOT_WAITED), not failed
    "slow-ingest=5": READ_BACK - {"test_trace_is_found_by_traceql_search"},
    "flaky-5xx=2": set(),  # a few 503s are ridden out by the retry discipline
    # Every check that needs an answer from a backend; only the ALB's own deny rules still hold.
    "flaky-5xx=100": VIA_ALB["mimir"] | VIA_ALB["loki"] | VIA_ALB["tempo"] | VIA_ALB["pyroscope"] | GRAFANA | ALLOY,
}


# Which service's FailedChecks goes non-zero (--publish-cloudwatch, lgtm_smoke/verdict/services.py):
# exactly the service at fault, so its deploy alarm rolls back only that service. None for faults
# of shared infrastructure (ALB rules, edge auth, TLS) and for a service that is down or unreachable:
# its checks are blocked, and missing data never rolls back (the circuit breaker owns tasks that
# do not start or fail health checks).
BACKENDS_AT_FAULT = set(BACKENDS)
AT_FAULT: dict[str, set[str]] = {
    **{f"{b}-route-404": set() for b in ("mimir", "loki", "pyroscope")},
    **{f"{b}-down": set() for b in BACKENDS},
    **{f"{b}-no-auth": {b} for b in BACKENDS},
    "pyroscope-anonymous": {"pyroscope"},
    "tempo-otlp-misrouted": set(),
    "tempo-prefix-not-stripped": set(),
    "tenant-leak": BACKENDS_AT_FAULT,
    "grafana-down": set(),
    "grafana-default-password": {"grafana"},
    "grafana-anonymous": {"grafana"},
    "grafana-datasource-no-tenant": {"grafana"},
    "admin-endpoint-exposed": set(),
    "ingest-5xx-on-garbage": {"mimir"},
    "slow-ingest=0.3": set(),
    "slow-ingest=5": BACKENDS_AT_FAULT,
    "flaky-5xx=2": set(),
    # every backend's target-group probe outlives its retries: every check is blocked, nothing published
    "flaky-5xx=100": set(),
    **dict.fromkeys(ALB_FAULTS, set()),
    **dict.fromkeys(("alloy-stopped", "alloy-wrong-tenant"), {"alloy"}),
}
PUBLISH = ("--publish-cloudwatch",)
NO_AWS = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}


def per_service(output: str) -> str:
    """The run's per-service block, for failure messages."""
    return output[output.find("lgtm-smoke per service"):][:1500]


def services_at_fault(output: str) -> set[str]:
    """The services the run's per-service verdict counts failed checks for (its terminal lines)."""
    return {m.group(1) for m in re.finditer(r"^  (\w+): (\d+) failed checks?$", output, re.M) if int(m.group(2))}


def test_the_matrix_covers_every_fault_the_stack_knows():
    assert set(AT_FAULT) == set(MATRIX) | set(ALB_FAULTS) | FRESH_STACK, "a fault without its service at fault"
    named = {spec.split("=")[0] for spec in MATRIX} | FRESH_STACK | set(ALB_FAULTS) | {"tls-untrusted"}  # its own test below
    assert named == set(KNOWN), f"faults without a matrix entry: {sorted(set(KNOWN) - named)}"


def test_the_matrix_with_the_moto_faults_proves_at_least_25_faults(repo_root):
    import ast

    tree = ast.parse((repo_root / "tests/aws/test_aws_faults.py").read_text())
    [moto] = [n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "FAULTS"]
    assert len(moto.keys) >= 14, "the moto fault table shrank"
    assert len(MATRIX) + len(moto.keys) >= 25


NOT_WAITED = {"slow-ingest=5": {"test_trace_is_found_by_traceql_search"}}


@pytest.mark.parametrize("fault", sorted(MATRIX) + sorted(ALB_FAULTS))
def test_fault_fails_exactly_its_checks(stack, run_smoke, fault):
    if fault in ALB_FAULTS and not ALB:
        pytest.skip("the ALB checks (lgtm_smoke/backends/alb) are not in the shipped suite yet")
    run = run_smoke(MARK, [fault], "--search-timeout", "2", *PUBLISH, timeout=1, env=NO_AWS)
    expected = MATRIX.get(fault, ALB_FAULTS.get(fault))
    assert services_at_fault(run.output) == AT_FAULT[fault], per_service(run.output)
    assert stack.state_changes() == {}, f"the suite made state-changing calls: {dict(stack.state_changes())}"
    assert run.passed, run.output  # the suite ran
    assert set(run.failed) == expected, (
        f"{fault}: unexpected failures {sorted(set(run.failed) - expected)}, "
        f"missed {sorted(expected - set(run.failed))}\n{run.output[-3000:]}")
    assert run.returncode == (1 if expected else 0)
    for name in NOT_WAITED.get(fault, ()):
        assert "not waited for: the verdict was already red" in run.skipped.get(name, ""), run.output[-3000:]
    for name in expected:  # each failure is our one-line cause, never a crash of the check itself
        message = run.failed[name]
        first = message.splitlines()[0]
        assert len(first) > 30 and "internal error" not in first, f"{name}: {first}"
        assert "Traceback" not in message and "AssertionError" not in message, f"{name}: {message[:500]}"


# Faults only a fresh stack shows at once: the last samples of a stopped Alloy (or of one that
# now writes as another tenant) stay fresh in Mimir for two scrape intervals (60 s), so on the
# shared stack the suite rightly stays green that long.
FRESH_STACK = {"alloy-stopped", "alloy-wrong-tenant"}


@pytest.mark.parametrize("fault", sorted(FRESH_STACK))
def test_fault_on_a_fresh_stack_fails_exactly_its_checks(tmp_path, fault):
    with ReferenceStack([fault], tenants=("t-fresh",), tempo_search_lag=0.3) as fresh:
        run = run_pytest(["-m", MARK, "--alb", fresh.url, "--tenant", "t-fresh", "--readback-timeout", "1",
                          "--search-timeout", "2", *fresh.suite_args(), *PUBLISH], tmp_path,
                         env={**fresh.suite_env(), **NO_AWS})
    assert run.passed, run.output
    assert services_at_fault(run.output) == AT_FAULT[fault], per_service(run.output)
    assert set(run.failed) == ALLOY, (f"{fault}: unexpected failures {sorted(set(run.failed) - ALLOY)}, "
                                      f"missed {sorted(ALLOY - set(run.failed))}\n{run.output[-3000:]}")


HEALTHY_REPEATS = int(os.environ.get("LGTM_HEALTHY_REPEATS", "20"))


@pytest.mark.parametrize("n", range(HEALTHY_REPEATS))
def test_healthy_stack_is_green_every_time(stack, run_smoke, n):
    """Zero flakes: the whole suite, back to back on one stack, passes every time; and it never
    makes a call any backend would act on (flush, shutdown, delete, ...)."""
    run = run_smoke(MARK, [], "--search-timeout", "5", timeout=5)
    assert run.returncode == 0 and not run.failed, run.output[-3000:]
    assert stack.state_changes() == {}, f"the suite made state-changing calls: {dict(stack.state_changes())}"
    assert len(run.passed) >= 44  # one test per check (the ALB room replaced 17 parametrized probes by 13 checks)


@pytest.mark.slow
@pytest.mark.parametrize("n", range(50))
def test_healthy_stack_is_green_fifty_times(run_smoke, n):
    run = run_smoke(MARK, [], "--search-timeout", "5", timeout=5)
    assert run.returncode == 0 and not run.failed, run.output[-3000:]


def test_untrusted_certificate_blocks_every_check_and_names_tls(stack, run_smoke):
    """tls-untrusted: a certificate from a CA the suite was not given. Every check that goes
    through the ALB's HTTPS listener is red (blocked by the `alb` precondition), each cause
    naming the certificate, never a retry to the deadline. Only the ALB's admin-routes checks,
    which evaluate the listener rules and send nothing, still pass."""
    if stack.ca_bundle is None:
        pytest.skip("the matrix stack runs without TLS")
    run = run_smoke(MARK, ["tls-untrusted"], "--search-timeout", "2", *PUBLISH, timeout=1, env=NO_AWS)
    assert services_at_fault(run.output) == set(), "nothing could be checked: nothing rolls back"
    rules_only = {t for t in ALB if t.endswith("_admin_routes_closed_at_the_alb")}
    assert run.returncode == 1 and set(run.passed) == rules_only and run.failed, run.output[-3000:]
    unnamed = {name: m.splitlines()[0] for name, m in run.failed.items()
               if not any(w in m for w in ("TLS", "certificate", "CERTIFICATE"))}
    assert not unnamed, f"causes that do not name the certificate: {unnamed}"
    assert stack.state_changes() == {}
