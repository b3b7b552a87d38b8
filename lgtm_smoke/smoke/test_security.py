"""Security: each check states what an attacker, or a mistake, could do if it failed.
Every request goes through the ALB, exactly as an outsider's would."""
import pytest

from lgtm_smoke.checks.security import exposed_endpoints

pytestmark = [pytest.mark.smoke, pytest.mark.security]


# --- tenant isolation ------------------------------------------------------------------------------
def test_mimir_tenant_cannot_read_another_tenants_metrics(security_isolation_mimir):
    """A sample written as the run's tenant reads back as that tenant, and is absent when
    queried as another tenant. If not: anyone who sends any X-Scope-OrgID reads every
    tenant's metrics."""
    assert security_isolation_mimir.verify()["other_sees"] == 0


def test_loki_tenant_cannot_read_another_tenants_logs(security_isolation_loki):
    """The same for a log line. If not: any tenant id reads every tenant's logs (and secrets in them)."""
    assert security_isolation_loki.verify()["other_sees"] == 0


def test_tempo_tenant_cannot_read_another_tenants_traces(security_isolation_tempo):
    """A span written as the run's tenant is found by id as that tenant and is a 404 for
    another tenant. If not: any tenant id reads every tenant's traces (URLs, SQL, user ids in
    span attributes)."""
    assert security_isolation_tempo.verify()["other_sees"] == 0


def test_pyroscope_tenant_cannot_read_another_tenants_profiles(security_isolation_pyroscope):
    """A pprof profile ingested as the run's tenant renders exactly (this run's stacks and
    values) as that tenant, and /pyroscope/render of the same selector is empty for another
    tenant. If not: any tenant id reads every tenant's profiles (function names, code paths,
    where the CPU and memory go); with multitenancy off they all sit under anonymous/."""
    assert security_isolation_pyroscope.verify()["other_sees"] == 0


# --- missing tenant --------------------------------------------------------------------------------
def test_mimir_rejects_writes_without_tenant(security_no_tenant_mimir):
    """A valid remote write without X-Scope-OrgID gets Mimir's 401 `no org id`. If accepted,
    multitenancy is off: data lands in anonymous/ and any client that forgets the header
    writes into one shared, unisolated tenant."""
    assert security_no_tenant_mimir.verify()["status"] == 401


def test_loki_rejects_pushes_without_tenant(security_no_tenant_loki):
    """A valid log push without a tenant gets Loki's 401 `no org id`. If accepted, auth_enabled
    is false: logs land in fake/, readable by anyone without a tenant."""
    assert security_no_tenant_loki.verify()["status"] == 401


def test_tempo_otlp_rejects_traces_without_tenant(security_no_tenant_tempo_otlp):
    """A valid OTLP trace to /v1/traces without a tenant gets the receiver's 503 `no org id`
    (Tempo's real answer, not 401). If accepted: traces land in single-tenant/."""
    assert security_no_tenant_tempo_otlp.verify()["status"] == 503


def test_tempo_query_rejects_requests_without_tenant(security_no_tenant_tempo_query):
    """A trace search without a tenant gets 401 `no org id`. If answered: multitenancy is off
    and everyone reads the single-tenant/ traces."""
    assert security_no_tenant_tempo_query.verify()["status"] == 401


def test_pyroscope_rejects_profiles_without_tenant(security_no_tenant_pyroscope):
    """A valid profile ingest without a tenant gets 401 `no org id`. If accepted: profiles
    land in anonymous/ (the seeds' incident: anonymous/phlaredb/ in the bucket)."""
    assert security_no_tenant_pyroscope.verify()["status"] == 401


# --- garbage to every ingest path ------------------------------------------------------------------
def test_mimir_answers_garbage_with_4xx_and_keeps_serving(security_garbage_mimir):
    """Random bytes to /api/v1/push get a 4xx, and a query still answers 200 afterwards.
    A 5xx means bad client input looks like an outage: clients retry it forever and alerts fire."""
    assert security_garbage_mimir.verify()["answers"]


def test_loki_answers_garbage_with_4xx_and_keeps_serving(security_garbage_loki):
    """Truncated JSON and non-snappy bytes to /loki/api/v1/push get 4xx; labels still answer."""
    assert security_garbage_loki.verify()["answers"]


def test_tempo_answers_garbage_with_4xx_and_keeps_serving(security_garbage_tempo):
    """Non-OTLP bytes to /v1/traces get 4xx; /tempo/api/echo still answers."""
    assert security_garbage_tempo.verify()["answers"]


def test_pyroscope_answers_garbage_with_4xx_and_keeps_serving(security_garbage_pyroscope):
    """Non-pprof bytes to /pyroscope/ingest and to the Connect push get 4xx; ProfileTypes still answers."""
    assert security_garbage_pyroscope.verify()["answers"]


# --- internal and admin endpoints ------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", exposed_endpoints(), ids=lambda e: e["path"])
def test_internal_endpoint_is_blocked_at_the_alb(security_exposed_endpoints, endpoint):
    """Each endpoint in lgtm_smoke/data/exposed_endpoints.json answers 403 (an ALB deny rule)
    or 404 through the ALB. Anything else means a backend got the request: see the entry's
    `risk` for what an outsider could then do."""
    answer = security_exposed_endpoints.verify()[endpoint["path"]]
    if answer["status"] not in (403, 404):
        pytest.fail(f"{answer['method']} {endpoint['path']} → {answer['status']} through the ALB, expected 403/404: "
                    f"{answer['body']} — reachable from outside: {endpoint['risk']}", pytrace=False)


# --- Grafana ---------------------------------------------------------------------------------------
def test_grafana_refuses_default_admin_password(security_grafana_default_password):
    """admin/admin gets 401. If not, anyone is Grafana admin: every datasource (hence every
    backend under the stack's tenant), users and settings. Costs one failed login per run:
    Grafana locks a user out after 5 failures in 5 minutes, so do not loop this check."""
    assert security_grafana_default_password.verify()["status"] == 401


def test_grafana_anonymous_access_is_off(security_grafana_anonymous):
    """Without credentials, search, datasource listing and a datasource-proxy query all get 401.
    If not, anyone reaching the ALB reads dashboards and queries the backends through Grafana."""
    assert set(security_grafana_anonymous.verify()["unauthenticated"].values()) == {401}
