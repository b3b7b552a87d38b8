"""The ALB: can a stranger harm the stack or read a tenant through it — and does it speak
HTTPS only? Admin, debug, ring, flush, shutdown, delete, config, metrics, pprof and status
routes of every backend (the exposure catalogue, read from their source at the pinned
versions) are proven closed from the listener rules without being called; only paths whose
GET is harmless on every backend are requested. Unauthenticated writes and reads must be
refused by the ALB's edge-auth rule; plain HTTP must redirect.

Each test's docstring is its runbook line (docs/runbook.md has the long form)."""

import pytest

from lgtm_smoke.backends.alb import checks

pytestmark = [pytest.mark.smoke, pytest.mark.alb, pytest.mark.security]


@pytest.mark.check(checks.closed["loki"])
def test_loki_admin_routes_closed_at_the_alb(outcome):
    """No Loki admin route (/flush, /ingester/shutdown, /loki/api/v1/delete, /config, rings,
    pprof, …) is forwarded to Loki by any listener rule, at any public prefix, with or without
    the edge secret. Nothing is sent: the rules are evaluated."""
    assert outcome["open"] == [] and outcome["routes"] > 0


@pytest.mark.check(checks.closed["tempo"])
def test_tempo_admin_routes_closed_at_the_alb(outcome):
    """No Tempo admin route is forwarded: /tempo/shutdown rewritten to /shutdown would stop
    ingestion on ANY method, /tempo/flush flush it; /tempo/metrics, /tempo/status/config leak."""
    assert outcome["open"] == [] and outcome["routes"] > 0


@pytest.mark.check(checks.closed["mimir"])
def test_mimir_admin_routes_closed_at_the_alb(outcome):
    """No Mimir admin route (/ingester/flush, /ingester/shutdown, /compactor/delete_tenant,
    ruler config, rings, /config, …) is forwarded to Mimir."""
    assert outcome["open"] == [] and outcome["routes"] > 0


@pytest.mark.check(checks.closed["pyroscope"])
def test_pyroscope_admin_routes_closed_at_the_alb(outcome):
    """No Pyroscope admin route (IngesterService/Flush, settings Set/Delete, rings, config, …)
    is forwarded to Pyroscope."""
    assert outcome["open"] == [] and outcome["routes"] > 0


@pytest.mark.check(checks.closed["grafana"])
def test_grafana_admin_routes_closed_at_the_alb(outcome):
    """Grafana's admin API reaches Grafana only behind Grafana's own login; its /metrics
    (no login by default) is not forwarded."""
    assert outcome["open"] == []


@pytest.mark.check(checks.unknown_paths)
def test_unknown_paths_get_the_albs_fixed_404(outcome):
    """Harmless admin paths (GET, no tenant: /metrics, /config, /debug/pprof/, … at every
    prefix) get the ALB's own fixed 404, so the live ALB does what its rules say."""
    assert outcome["probed"] >= 20


@pytest.mark.check(checks.http_redirect)
def test_plain_http_redirects_to_https(outcome):
    """GET over plain HTTP answers 301/308 to https on the same host and path: no Grafana
    login or tenant data in clear text."""
    assert outcome["location"].startswith("https://")


@pytest.mark.check(checks.edge_auth["mimir"])
def test_mimir_refuses_unauthenticated_write_and_read(outcome):
    """A remote write (a body Mimir rejects) and a PromQL query without X-LGTM-Edge-Secret get
    the ALB's edge-auth 401; the authenticated half is mimir.remote_write."""
    assert outcome["write"]["refused_by"] == outcome["read"]["refused_by"] == "alb edge-auth rule"


@pytest.mark.check(checks.edge_auth["loki"])
def test_loki_refuses_unauthenticated_write_and_read(outcome):
    """A push (truncated JSON) and a labels read without the edge secret get the ALB's 401."""
    assert outcome["write"]["refused_by"] == outcome["read"]["refused_by"] == "alb edge-auth rule"


@pytest.mark.check(checks.edge_auth["tempo"])
def test_tempo_refuses_unauthenticated_write_and_read(outcome):
    """An OTLP push (not protobuf) and a search without the edge secret get the ALB's 401."""
    assert outcome["write"]["refused_by"] == outcome["read"]["refused_by"] == "alb edge-auth rule"


@pytest.mark.check(checks.edge_auth["pyroscope"])
def test_pyroscope_refuses_unauthenticated_write_and_read(outcome):
    """A Connect push (not protobuf) and a ProfileTypes read without the edge secret get the ALB's 401."""
    assert outcome["write"]["refused_by"] == outcome["read"]["refused_by"] == "alb edge-auth rule"
