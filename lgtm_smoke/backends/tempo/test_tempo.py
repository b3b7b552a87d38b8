"""Traces: can an OpenTelemetry SDK app send a trace to Tempo through the ALB (`/v1/traces`,
the OTLP/HTTP receiver) under this stack's tenant, and can it be read back through the ALB
(`/tempo/*`, prefix stripped by the ALB) by id and by TraceQL search — and is Tempo safe
(tenants isolated, nothing without a tenant, bad input a 4xx) and readable through Grafana?

Each test's docstring is its runbook line (docs/runbook.md has the long form)."""
import pytest

from lgtm_smoke.backends.tempo import checks

pytestmark = [pytest.mark.smoke, pytest.mark.tempo]


@pytest.mark.check(checks.trace)
def test_trace_is_readable_by_id(outcome):
    """The OTel SDK (TracerProvider, service.name=lgtm-smoke) exports root → child →
    grandchild with OTLPSpanExporter to POST /v1/traces (X-Scope-OrgID) and gets 2xx; then
    GET /tempo/api/traces/<id> (v1, `batches`) and /tempo/api/v2/traces/<id> return all three
    spans with their parent links, service.name and this run's lgtm_smoke.run attribute.
    Fails on: /v1/traces sent to Tempo's API port (404 `404 page not found`), Tempo down
    (502), the /tempo prefix not stripped by the ALB (read 404 with a body), tenant header
    dropped (503/401 `no org id`), or ingestion not reaching the queriers in time."""
    assert outcome["spans"] >= 3


@pytest.mark.check(checks.search)
def test_trace_is_found_by_traceql_search(outcome):
    """A second trace is found by GET /tempo/api/search?q={ resource.service.name = "lgtm-smoke"
    && span.lgtm_smoke.run = "<run>" ... } with the right root service and root span. Search
    covers completed traces only (Tempo waits ~15 s before a trace is searchable), so this
    check has its own deadline (--search-timeout, env LGTM_TEMPO_SEARCH_TIMEOUT, default 60 s) and can be left
    out with `-k "not search"`. Fails on: search not wired (the frontend/queriers cannot read
    blocks: check the S3 bucket and the compactor/flush settings) or the failures above."""
    assert outcome["found"] >= 1


@pytest.mark.security
@pytest.mark.check(checks.isolation)
def test_tempo_tenant_cannot_read_another_tenants_traces(outcome):
    """A span written as the run's tenant is found by id as that tenant and is a 404 for
    another tenant. If not: any tenant id reads every tenant's traces (URLs, SQL, user ids in
    span attributes)."""
    assert outcome["other_sees"] == 0


@pytest.mark.security
@pytest.mark.check(checks.no_tenant_otlp)
def test_tempo_otlp_rejects_traces_without_tenant(outcome):
    """A valid OTLP trace to /v1/traces without a tenant gets the receiver's 503 `no org id`
    (Tempo's real answer, not 401). If accepted: multitenancy is off and traces land in
    single-tenant/, readable by anyone."""
    assert outcome["status"] == 503


@pytest.mark.security
@pytest.mark.check(checks.no_tenant_query)
def test_tempo_query_rejects_requests_without_tenant(outcome):
    """A trace search without a tenant gets 401 `no org id`. If answered: multitenancy is off
    and everyone reads the single-tenant/ traces."""
    assert outcome["status"] == 401


@pytest.mark.security
@pytest.mark.check(checks.garbage)
def test_tempo_answers_garbage_with_4xx_and_keeps_serving(outcome):
    """Non-OTLP bytes to /v1/traces get 4xx; /tempo/api/echo still answers."""
    assert list(outcome["answers"]) == ["a body that is not OTLP protobuf"]


@pytest.mark.grafana
@pytest.mark.check(checks.grafana_datasource)
def test_tempo_datasource_has_tenant_header_and_is_healthy(outcome):
    """The Tempo datasource exists with X-Scope-OrgID (a secure value set) and its health is OK
    (Grafana reaches Tempo's API port directly, no /tempo prefix)."""
    assert (outcome["type"], outcome["header"]) == ("tempo", "X-Scope-OrgID")


@pytest.mark.grafana
@pytest.mark.check(checks.grafana_proxy)
def test_tempo_data_reads_back_through_grafana_proxy(outcome):
    """A span pushed to /v1/traces through the ALB is returned by
    /api/datasources/proxy/uid/<tempo uid>/api/traces/<id> (Grafana talks to Tempo's API port,
    no /tempo prefix)."""
    assert len(outcome["trace_id"]) == 32
