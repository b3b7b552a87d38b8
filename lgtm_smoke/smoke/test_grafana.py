"""Grafana: is it up, is it locked, are the four datasources provisioned with the stack's
tenant header and healthy, and can a logged-in user read this run's data back through
Grafana's datasource proxy — the path every dashboard takes?

Log in with --grafana-user/--grafana-password (env LGTM_GRAFANA_USER/LGTM_GRAFANA_PASSWORD).
The password is never printed; without it the logged-in checks fail saying how to pass it."""
import pytest

pytestmark = [pytest.mark.smoke, pytest.mark.grafana]


def test_health_reports_database_ok(grafana_health, request):
    """GET /api/health (no login) answers database "ok"; the version goes into the JUnit
    report (property grafana_version). Fails on: Grafana down (502), Grafana not the ALB's
    default target (not Grafana JSON), its database unreachable."""
    evidence = grafana_health.verify()
    request.node.user_properties.append(("grafana_version", f"{evidence['version']} (commit {evidence['commit']})"))
    assert evidence["database"] == "ok"


def test_api_requires_login(grafana_login_required):
    """GET /api/datasources and /api/search without credentials answer 401 with Grafana's
    JSON. Fails when anonymous access is on (200, or 403 for a Viewer): then anyone who
    reaches the ALB uses Grafana, and through it every backend, as the stack's tenant."""
    evidence = grafana_login_required.verify()
    assert set(evidence["unauthenticated"]) == {"/api/datasources", "/api/search"}


def test_mimir_datasource_has_tenant_header_and_is_healthy(grafana_datasource_mimir):
    """The Prometheus-type datasource exists, its jsonData.httpHeaderName1 is X-Scope-OrgID
    with a secure value set, and /api/datasources/uid/<uid>/health is OK. Fails on: wrong
    password (401), datasource missing or without the header, Mimir unreachable from Grafana."""
    assert grafana_datasource_mimir.verify()["header"] == "X-Scope-OrgID"


def test_loki_datasource_has_tenant_header_and_is_healthy(grafana_datasource_loki):
    """The same for the Loki datasource (a lost header shows up here and as 401 on the proxy read)."""
    assert grafana_datasource_loki.verify()["header"] == "X-Scope-OrgID"


def test_tempo_datasource_has_tenant_header_and_is_healthy(grafana_datasource_tempo):
    """The same for the Tempo datasource (Grafana reaches Tempo's API port directly, no /tempo prefix)."""
    assert grafana_datasource_tempo.verify()["header"] == "X-Scope-OrgID"


def test_pyroscope_datasource_has_tenant_header_and_is_healthy(grafana_datasource_pyroscope):
    """The same for the Pyroscope datasource (its header was once missing: data went to anonymous/)."""
    assert grafana_datasource_pyroscope.verify()["header"] == "X-Scope-OrgID"


def test_mimir_data_reads_back_through_grafana_proxy(grafana_proxy_mimir):
    """A sample pushed through the ALB as the run's tenant is returned by
    /api/datasources/proxy/uid/<mimir uid>/api/v1/query, called without any tenant header:
    Grafana's own header and its network path to Mimir work together."""
    evidence = grafana_proxy_mimir.verify()
    assert evidence["value"]


def test_loki_data_reads_back_through_grafana_proxy(grafana_proxy_loki):
    """A line pushed through the ALB is returned by /api/datasources/proxy/uid/<loki uid>/loki/api/v1/query_range.
    A 401 `no org id` here means the datasource lost its X-Scope-OrgID header."""
    evidence = grafana_proxy_loki.verify()
    assert "run=" in evidence["line"]


def test_tempo_data_reads_back_through_grafana_proxy(grafana_proxy_tempo):
    """A span pushed to /v1/traces through the ALB is returned by
    /api/datasources/proxy/uid/<tempo uid>/api/traces/<id> (Grafana talks to Tempo's API port,
    no /tempo prefix)."""
    assert len(grafana_proxy_tempo.verify()["trace_id"]) == 32


def test_pyroscope_data_reads_back_through_grafana_proxy(grafana_proxy_pyroscope):
    """A profile pushed to /push.v1.PusherService/Push through the ALB is returned exactly
    (this run's stacks and total) by POST /api/datasources/proxy/uid/<pyroscope uid>
    /querier.v1.QuerierService/SelectMergeStacktraces — the Connect call Grafana's Pyroscope
    datasource makes for a flame graph — sent without any tenant header. A 401 `no org id` here means the datasource lost its X-Scope-OrgID header."""
    assert grafana_proxy_pyroscope.verify()["total"] > 0
