"""Runbook proof for the traces and profiles checks: the shipped smoke suite, run as a user
runs it (a pytest subprocess from a neutral directory), passes on a healthy reference stack,
and with each named fault exactly the intended checks fail, each message naming the cause.

Faults on different backends are paired into one run to keep this file fast; every pair's
expected failures are disjoint, so each fault still has to fail exactly its own checks.
"""
from __future__ import annotations

import pytest
from harness import run_pytest
from lgtm_refstack.stack import ReferenceStack

TENANT = "t-int"
MARK = "smoke and (tempo or pyroscope) and not grafana"
# the round trips and the OTLP / ingest missing-tenant answers (isolation, garbage and the query
# API without a tenant are the fault matrix's and test_grafana_security_faults.py's)
ONLY = "not cannot_read and not garbage and not query_rejects"
TRACE = "test_trace_is_readable_by_id"
SEARCH = "test_trace_is_found_by_traceql_search"
TEMPO_NO_TENANT = "test_tempo_otlp_rejects_traces_without_tenant"
INGEST = "test_pprof_ingest_reads_back_exactly"
CONNECT = "test_connect_push_reads_back_exactly"
PYRO_NO_TENANT = "test_pyroscope_rejects_profiles_without_tenant"
TEMPO = {TRACE, SEARCH, TEMPO_NO_TENANT}
PYROSCOPE = {INGEST, CONNECT, PYRO_NO_TENANT}
ALL = TEMPO | PYROSCOPE


@pytest.fixture(scope="module")
def tp_stack():
    with ReferenceStack(tenants=(TENANT,)) as s:
        s.backend("tempo").search_delay = 0.5  # Tempo's completed-trace lag, shortened for this file
        yield s


@pytest.fixture
def smoke(tp_stack, tmp_path):
    """smoke(faults) -> (returncode, output, passed, {failed test: message})."""

    def run(faults, timeout: float = 3):
        tp_stack.set_faults(list(faults))
        result = run_pytest(["-m", MARK, "-k", ONLY, "--alb", tp_stack.url, "--tenant", TENANT,
                             "--readback-timeout", str(timeout),
                             "--search-timeout", str(timeout)],  # > the stack's 0.5 s search lag
                            tmp_path, env=tp_stack.suite_env())
        return result.returncode, result.output, result.passed, result.failed

    yield run
    tp_stack.set_faults([])


def test_healthy_stack_passes_every_trace_and_profile_check(smoke):
    code, output, passed, failed = smoke([])
    assert code == 0 and passed == ALL and not failed, output


OTLP_404 = ("blocked by target_group.tempo-otlp: target group tempo-otlp: GET /v1/traces → 404: 404 page not found — "
            "/v1/traces reached a Tempo port without an OTLP receiver")
# the route is gone: the ALB answers its own fixed 404 (routes.json default_action)
PYRO_404 = ("blocked by target_group.pyroscope: target group pyroscope: GET /pyroscope/render → 404: "
            "404 not found at the load balancer: no route for this path")
PREFIX_404 = "→ 404: 404 page not found — Tempo got the /tempo prefix: is the ALB url-rewrite transform missing?"


@pytest.mark.parametrize("faults, causes", [
    pytest.param(["tempo-otlp-misrouted", "pyroscope-anonymous"], {
        TRACE: OTLP_404, SEARCH: OTLP_404,
        TEMPO_NO_TENANT: OTLP_404,
        PYRO_NO_TENANT: "→ 200: Pyroscope accepted a profile without a tenant — multitenancy is off",
    }, id="otlp-misrouted+pyroscope-anonymous"),
    pytest.param(["tempo-prefix-not-stripped", "pyroscope-route-404"], {
        TRACE: PREFIX_404, SEARCH: PREFIX_404,
        INGEST: PYRO_404, CONNECT: PYRO_404, PYRO_NO_TENANT: PYRO_404,
    }, id="prefix-not-stripped+pyroscope-route-404"),
    pytest.param(["tempo-down", "pyroscope-down"], {
        TRACE: "→ 502 after", SEARCH: "→ 502 after", TEMPO_NO_TENANT: "→ 502 after",
        INGEST: "→ 502 after", CONNECT: "→ 502 after", PYRO_NO_TENANT: "→ 502 after",
    }, id="tempo-down+pyroscope-down"),
    pytest.param(["tempo-no-auth", "pyroscope-slow-ingest=5"], {
        TEMPO_NO_TENANT: "→ 200: Tempo accepted an OTLP trace without a tenant — multitenancy is off",
        INGEST: "not visible after 1s; received an empty flame graph",
        CONNECT: "not visible after 1s; received an empty flame graph",
    }, id="tempo-no-auth+pyroscope-slow-ingest"),
    pytest.param(["tempo-slow-ingest=5", "pyroscope-no-auth"], {
        TRACE: "not visible after 1s; received 404 with an empty body",
        SEARCH: "in TraceQL search not visible after 1s; received 0 trace(s)",
        PYRO_NO_TENANT: "→ 200: Pyroscope accepted a profile without a tenant",
    }, id="tempo-slow-ingest+pyroscope-no-auth"),
    pytest.param(["flaky-5xx=50"], {name: "→ 503 after" for name in ALL}, id="flaky-5xx=50"),
])
def test_each_fault_fails_exactly_its_checks_naming_the_cause(smoke, faults, causes):
    slow = any("slow-ingest" in f for f in faults)
    code, output, passed, failed = smoke(faults, timeout=1 if slow else 3)  # 1 s < the 5 s delay: fail fast
    assert code == 1, output
    assert set(failed) == set(causes), output
    assert passed == ALL - set(causes)
    for name, cause in causes.items():
        assert cause in failed[name], failed[name]


@pytest.mark.parametrize("faults", [["flaky-5xx=1"], ["tenant-leak"]])
def test_trouble_these_checks_do_not_own_leaves_them_green(smoke, faults):
    """A 503 is absorbed by the retry discipline (the OTel exporter's own retries
    for traces). A tenant leak is the security suite's to catch (test_security isolation checks):
    reading your own data still works, so these checks must not cry wolf."""
    code, output, passed, failed = smoke(faults)
    assert code == 0 and passed == ALL and not failed, output
