"""The nginx ALB stand-in routes every path exactly as the route table (and so the real
ALB) would: same first-match-by-priority, same fixed 404 for what the allow-list does not
name, same /tempo rewrite, same 401 without the edge secret."""
import pytest
import requests

from lgtm_smoke import routes
from lgtm_smoke.devstack.httpbase import Backend, BackendServer, Request, Response, route
from lgtm_smoke.devstack.nginx import Nginx
from lgtm_smoke.devstack.ports import free_port

SAMPLE_PATHS = [
    "/", "/login", "/api/health", "/api/v1/push", "/api/v1/push/extra", "/prometheus/api/v1/query",
    "/loki/api/v1/push", "/loki/api/v1/query_range", "/loki", "/v1/traces", "/v1/traces/x",
    "/tempo/api/traces/abc", "/tempo/ready", "/tempo", "/pyroscope/ingest", "/pyroscope/render",
    "/push.v1.PusherService/Push", "/querier.v1.QuerierService/SelectMergeStacktraces",
    "/loki/api/v1/delete", "/loki/api/v1/delete_requests", "/metrics", "/debug/pprof/heap", "/config",
    "/flush", "/ingester/shutdown", "/prometheus/api/v1/user_stats", "/api/v1/user_stats", "/ring",
    "/tempo/shutdown", "/tempo/flush", "/tempo/metrics", "/tempo/status/config", "/tempo/debug/pprof/heap",
    "/prometheus/api/v1/status/buildinfo", "/prometheus/config/v1/rules", "/pyroscope/ingest/x",
    "/ingester.v1.IngesterService/Flush", "/settings.v1.SettingsService/Set",
]
SECRET = "edge-secret-under-test"


class Echo(Backend):
    """Answers with its target group and the path it received."""

    def __init__(self, tg):
        super().__init__()
        self.name = tg

    @route("*", "/.*")
    def any(self, req: Request) -> Response:
        return Response.json({"tg": self.name, "path": req.path})


@pytest.fixture(scope="module")
def alb(tmp_path_factory):
    table = routes.load()
    servers = {tg: BackendServer(Echo(tg)).start() for tg in table.target_groups}
    nginx = Nginx(tmp_path_factory.mktemp("nginx"), free_port(), edge_secrets=(SECRET, "previous-secret"))
    nginx.start(table, {tg: f"127.0.0.1:{s.port}" for tg, s in servers.items()})
    yield table, nginx
    nginx.stop()
    for s in servers.values():
        s.stop()


@pytest.mark.parametrize("path", SAMPLE_PATHS)
def test_nginx_routes_like_the_route_table(alb, path):
    table, nginx = alb
    r = requests.get(nginx.url + path, headers={table.edge_auth["header"]: SECRET}, timeout=5)
    rule = table.route(path)
    expected_tg = table.target_for(path)
    if expected_tg is None:
        assert (r.status_code, r.text) == (404, table.default_action["body"]), f"{path}: {r.status_code} {r.text}"
        return
    assert r.status_code == 200, f"{path}: {r.status_code}"
    assert r.json()["tg"] == expected_tg
    expected_path = path
    if rule is not None and rule.rewrite:
        import re

        regex, replace = rule.rewrite
        expected_path = re.sub(regex, replace.replace("$", "\\"), path)
    assert r.json()["path"] == expected_path


def test_tempo_prefix_is_stripped_and_query_kept(alb):
    _, nginx = alb
    r = requests.get(nginx.url + "/tempo/api/search", params={"q": "{}"},
                     headers={"X-LGTM-Edge-Secret": SECRET}, timeout=5)
    assert r.json() == {"tg": "tempo", "path": "/api/search"}


def test_admin_endpoints_get_the_fixed_404_at_the_alb(alb):
    table, nginx = alb
    for path in ("/flush", "/config", "/loki/api/v1/delete", "/metrics", "/tempo/shutdown", "/tempo/flush"):
        r = requests.get(nginx.url + path, headers={"X-LGTM-Edge-Secret": SECRET}, timeout=5)
        assert (r.status_code, r.text) == (404, table.default_action["body"]), path
        assert table.target_for(path) is None


@pytest.mark.parametrize("header", [None, "wrong", ""], ids=["no-header", "wrong-secret", "empty"])
def test_edge_auth_rules_answer_401_without_the_secret(alb, header):
    """Every edge_auth rule: no (or a wrong) secret gets the ALB's 401, never the backend."""
    table, nginx = alb
    headers = {} if header is None else {table.edge_auth["header"]: header}
    for rule in (r for r in table.rules if r.edge_auth):
        path = rule.paths[0].replace("*", "x")
        r = requests.get(nginx.url + path, headers=headers, timeout=5)
        assert (r.status_code, r.text) == (401, table.edge_auth["unauthenticated"]["body"]), f"{rule.name} {path}"


def test_previous_secret_is_accepted_during_a_rotation(alb):
    _, nginx = alb
    r = requests.get(nginx.url + "/api/v1/push", headers={"X-LGTM-Edge-Secret": "previous-secret"}, timeout=5)
    assert r.json() == {"tg": "mimir", "path": "/api/v1/push"}


def test_grafana_needs_no_edge_secret(alb):
    _, nginx = alb
    for path in ("/", "/login", "/api/health", "/public/build/app.js", "/d/abc/x"):
        assert requests.get(nginx.url + path, timeout=5).json()["tg"] == "grafana", path


def test_alb_pattern_semantics():
    rx = routes.alb_pattern_regex("/loki/*")
    assert rx.fullmatch("/loki/api") and rx.fullmatch("/loki/") and not rx.fullmatch("/loki")
    assert routes.alb_pattern_regex("/a?c").fullmatch("/abc") and not routes.alb_pattern_regex("/a?c").fullmatch("/ac")
    assert routes.alb_pattern_regex("/v1/traces").fullmatch("/v1/traces") and not routes.alb_pattern_regex("/v1/traces").fullmatch("/v1/traces/x")


def test_route_table_is_well_formed():
    table = routes.load()
    priorities = [r.priority for r in table.rules]
    assert len(set(priorities)) == len(priorities), "ALB rule priorities must be unique"
    for rule in table.rules:
        assert rule.action == "forward"
        assert 1 <= len(rule.paths) <= 3, f"{rule.name}: an ALB condition takes at most 3 values"
        assert rule.target_group in table.target_groups, rule.name
    assert table.default_action["status"] == 404
    alb_priorities = [r.priority for r in table.alb_rules()]
    assert len(set(alb_priorities)) == len(alb_priorities), "edge_auth +500 rules collide with other rules"
