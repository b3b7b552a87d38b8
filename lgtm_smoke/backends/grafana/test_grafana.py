"""Grafana: is it up and is it locked (no anonymous access, no default admin password)?
The checks that read each backend through Grafana (its datasource has the tenant header
and is healthy; this run's data reads back through the datasource proxy) live with that
backend: `pytest -m "smoke and grafana"` runs them all.

Log in with --grafana-user/--grafana-password (env LGTM_GRAFANA_USER/LGTM_GRAFANA_PASSWORD).
The password is never printed; without it the logged-in checks fail saying how to pass it.
Each test's docstring is its runbook line (docs/runbook.md has the long form)."""
import pytest

from lgtm_smoke.backends.grafana import checks

pytestmark = [pytest.mark.smoke, pytest.mark.grafana]


@pytest.mark.check(checks.health)
def test_health_reports_database_ok(outcome, record_testsuite_property):
    """GET /api/health (no login) answers database "ok"; the version goes into the JUnit
    report (testsuite property grafana_version: per-test properties are not in xunit2). Fails
    on: Grafana down (502), Grafana not the ALB's default target (not Grafana JSON), its
    database unreachable."""
    record_testsuite_property("grafana_version", f"{outcome['version']} (commit {outcome['commit']})")
    assert outcome["database"] == "ok"


@pytest.mark.security
@pytest.mark.check(checks.anonymous)
def test_grafana_anonymous_access_is_off(outcome):
    """Without credentials, datasource listing and search answer 401 with Grafana's JSON, and
    so does a datasource-proxy query. If not, anonymous access is on: anyone reaching the ALB
    reads dashboards and queries every backend through Grafana as the stack's tenant."""
    assert set(outcome["unauthenticated"].values()) == {401}


@pytest.mark.security
@pytest.mark.check(checks.default_password)
def test_grafana_refuses_default_admin_password(outcome):
    """admin/admin gets 401. If not, anyone is Grafana admin: every datasource (hence every
    backend under the stack's tenant), users and settings. Costs one failed login per run:
    Grafana locks a user out after 5 failures in 5 minutes, so do not loop this check."""
    assert outcome["status"] == 401
