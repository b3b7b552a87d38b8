"""Metrics: can a Prometheus remote-write client store a sample in Mimir through the ALB and
read it back with PromQL under this stack's tenant — and is Mimir safe (tenants isolated, no
write without a tenant, bad input a 4xx) and readable through Grafana?

Each test's docstring is its runbook line (docs/runbook.md has the long form)."""
import pytest

from lgtm_smoke.backends.mimir import checks

pytestmark = [pytest.mark.smoke, pytest.mark.mimir]


@pytest.mark.check(checks.remote_write_round_trip)
def test_remote_write_sample_reads_back_exactly(outcome):
    """POST /api/v1/push (protobuf + raw snappy, X-Scope-OrgID) answers 2xx, and
    GET /prometheus/api/v1/query returns lgtm_smoke_probe{check="mimir"} with this run's
    value. Fails on: a missing ALB rule (404), Mimir down (502), tenant header dropped
    (401), ingestion not reaching queriers (not visible before --readback-timeout)."""
    assert float(outcome["value"]) == float(outcome["expected"])


@pytest.mark.security
@pytest.mark.check(checks.isolation)
def test_mimir_tenant_cannot_read_another_tenants_metrics(outcome):
    """A sample written as the run's tenant reads back as that tenant, and is absent when
    queried as another tenant. If not: anyone who sends any X-Scope-OrgID reads every
    tenant's metrics."""
    assert outcome["other_sees"] == 0


@pytest.mark.security
@pytest.mark.check(checks.no_tenant)
def test_mimir_rejects_writes_without_tenant(outcome):
    """A valid remote write without X-Scope-OrgID gets Mimir's 401 `no org id`. If accepted,
    multitenancy is off: data lands in anonymous/ and any client that forgets the header
    writes into one shared, unisolated tenant."""
    assert outcome["status"] == 401


@pytest.mark.security
@pytest.mark.check(checks.garbage)
def test_mimir_answers_garbage_with_4xx_and_keeps_serving(outcome):
    """Random bytes to /api/v1/push get a 4xx, and a query still answers 200 afterwards.
    A 5xx means bad client input looks like an outage: clients retry it forever and alerts fire."""
    assert outcome["answers"]


@pytest.mark.grafana
@pytest.mark.check(checks.grafana_datasource)
def test_mimir_datasource_has_tenant_header_and_is_healthy(outcome):
    """The Prometheus-type datasource exists, its jsonData.httpHeaderName1 is X-Scope-OrgID
    with a secure value set, and /api/datasources/uid/<uid>/health is OK. Fails on: wrong
    password (401), datasource missing or without the header, Mimir unreachable from Grafana."""
    assert outcome["header"] == "X-Scope-OrgID"


@pytest.mark.grafana
@pytest.mark.check(checks.grafana_proxy)
def test_mimir_data_reads_back_through_grafana_proxy(outcome):
    """A sample pushed through the ALB as the run's tenant is returned by
    /api/datasources/proxy/uid/<mimir uid>/api/v1/query, called without any tenant header:
    Grafana's own header and its network path to Mimir work together."""
    assert outcome["value"]
