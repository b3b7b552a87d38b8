"""Profiles: can a pprof profile reach Pyroscope through the ALB under this stack's tenant,
by both ingest paths agents use, and be read back exactly — and is Pyroscope safe (tenants
isolated, nothing without a tenant, bad input a 4xx) and readable through Grafana?

Each test's docstring is its runbook line (docs/runbook.md has the long form)."""
import pytest

from lgtm_smoke.backends.pyroscope import checks

pytestmark = [pytest.mark.smoke, pytest.mark.pyroscope]


@pytest.mark.check(checks.ingest)
def test_pprof_ingest_reads_back_exactly(outcome):
    """A gzip pprof (cpu/nanoseconds, three known stacks) POSTed to /pyroscope/ingest
    ?name=lgtm-smoke{check=…}&format=pprof answers 200, and GET /pyroscope/render for
    process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="lgtm-smoke",…} returns the known
    function names and exactly this run's total. Fails on: no ALB rule for /pyroscope/*
    (404), Pyroscope down (502), tenant header dropped (401 `no org id`), or
    ingestion not reaching the queriers in time."""
    assert outcome["total"] > 0


@pytest.mark.check(checks.connect_push)
def test_connect_push_reads_back_exactly(outcome):
    """The same profile as a PushRequest (application/proto) to /push.v1.PusherService/Push
    answers 200, and /querier.v1.QuerierService/SelectMergeStacktraces returns exactly it.
    This is the path Grafana Alloy and the Pyroscope SDKs use; a 404 means the ALB lacks the
    Connect path rules (/push.v1.PusherService/*, /querier.v1.QuerierService/*)."""
    assert outcome["total"] > 0


@pytest.mark.security
@pytest.mark.check(checks.isolation)
def test_pyroscope_tenant_cannot_read_another_tenants_profiles(outcome):
    """A pprof profile ingested as the run's tenant renders exactly (this run's stacks and
    values) as that tenant, and /pyroscope/render of the same selector is empty for another
    tenant. If not: any tenant id reads every tenant's profiles (function names, code paths,
    where the CPU and memory go); with multitenancy off they all sit under anonymous/."""
    assert outcome["other_sees"] == 0


@pytest.mark.security
@pytest.mark.check(checks.no_tenant)
def test_pyroscope_rejects_profiles_without_tenant(outcome):
    """A profile pushed without X-Scope-OrgID gets 401 {"code":"unauthenticated","message":"no org id"}.
    If it is accepted, Pyroscope runs with multitenancy off: everything, whatever tenant
    header it carries, lands in `anonymous/` in the bucket (the seeds' 02:00 incident)."""
    assert outcome["status"] == 401


@pytest.mark.security
@pytest.mark.check(checks.garbage)
def test_pyroscope_answers_garbage_with_4xx_and_keeps_serving(outcome):
    """Non-pprof bytes to /pyroscope/ingest and to the Connect push get 4xx; ProfileTypes still answers."""
    assert len(outcome["answers"]) == 2, "the legacy ingest and the Connect push both get garbage"


@pytest.mark.grafana
@pytest.mark.check(checks.grafana_datasource)
def test_pyroscope_datasource_has_tenant_header_and_is_healthy(outcome):
    """The Pyroscope datasource exists with X-Scope-OrgID (a secure value set) and its health is
    OK (its header was once missing: data went to anonymous/)."""
    assert outcome["header"] == "X-Scope-OrgID", f"datasource {outcome['name']} sends no tenant"


@pytest.mark.grafana
@pytest.mark.check(checks.grafana_proxy)
def test_pyroscope_data_reads_back_through_grafana_proxy(outcome):
    """A profile pushed to /push.v1.PusherService/Push through the ALB is returned exactly
    (this run's stacks and total) by POST /api/datasources/proxy/uid/<pyroscope uid>
    /querier.v1.QuerierService/SelectMergeStacktraces — the Connect call Grafana's Pyroscope
    datasource makes for a flame graph — sent without any tenant header. A 401 `no org id`
    here means the datasource lost its X-Scope-OrgID header."""
    assert outcome["total"] > 0
