"""Logs: can Loki take a push through the ALB in both wire formats clients use and serve the
exact line back with LogQL under this stack's tenant — and is Loki safe (tenants isolated,
no push without a tenant, bad input a 4xx) and readable through Grafana?

Each test's docstring is its runbook line (docs/runbook.md has the long form)."""
import pytest

from lgtm_smoke.backends.loki import checks

pytestmark = [pytest.mark.smoke, pytest.mark.loki]


@pytest.mark.check(checks.push_json)
def test_json_push_reads_back_exactly(outcome):
    """POST /loki/api/v1/push as application/json answers 2xx, and query_range with a
    line filter on this run's id returns the very line. Fails on: /loki/* not routed
    (404), Loki down (502), tenant header dropped (401), slow ingest past the deadline."""
    assert outcome["line"].endswith("level=info") and outcome["streams"] >= 1


@pytest.mark.check(checks.push_protobuf)
def test_protobuf_push_reads_back_exactly(outcome):
    """POST /loki/api/v1/push as snappy-compressed logproto.PushRequest (what Alloy and
    Promtail send) answers 2xx, and the line reads back exactly."""
    assert "check=loki-proto" in outcome["line"] and outcome["streams"] >= 1


@pytest.mark.security
@pytest.mark.check(checks.isolation)
def test_loki_tenant_cannot_read_another_tenants_logs(outcome):
    """The same as the Mimir isolation check for a log line. If not: any tenant id reads every
    tenant's logs (and secrets in them)."""
    assert outcome["other_sees"] == 0


@pytest.mark.security
@pytest.mark.check(checks.no_tenant)
def test_loki_rejects_pushes_without_tenant(outcome):
    """A valid log push without a tenant gets Loki's 401 `no org id`. If accepted, auth_enabled
    is false: logs land in fake/, readable by anyone without a tenant."""
    assert outcome["status"] == 401


@pytest.mark.security
@pytest.mark.check(checks.garbage)
def test_loki_answers_garbage_with_4xx_and_keeps_serving(outcome):
    """Truncated JSON and non-snappy bytes to /loki/api/v1/push get 4xx; labels still answer."""
    assert set(outcome["answers"]) == {"truncated JSON", "a body that is not snappy protobuf"}


@pytest.mark.grafana
@pytest.mark.check(checks.grafana_datasource)
def test_loki_datasource_has_tenant_header_and_is_healthy(outcome):
    """The Loki datasource exists with X-Scope-OrgID (a secure value set) and its health is OK
    (a lost header shows up here and as 401 on the proxy read)."""
    assert outcome["type"] == "loki" and outcome["header"] == "X-Scope-OrgID"


@pytest.mark.grafana
@pytest.mark.check(checks.grafana_proxy)
def test_loki_data_reads_back_through_grafana_proxy(outcome):
    """A line pushed through the ALB is returned by /api/datasources/proxy/uid/<loki uid>/loki/api/v1/query_range.
    A 401 `no org id` here means the datasource lost its X-Scope-OrgID header."""
    assert "run=" in outcome["line"]
