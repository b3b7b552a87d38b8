"""The nginx ALB stand-in routes every path exactly as the effective listener rules (and so
the real ALB) would: same first-match-by-priority, same fixed responses, same /tempo rewrite,
same edge-secret header condition."""
import re

import pytest
import requests
from lgtm_refstack.nginx import Listeners, Nginx
from lgtm_refstack.ports import free_port
from lgtm_refstack.web import (
    Backend,
    BackendServer,
    Request,
    Response,
    json_response,
    route,
)

from lgtm_smoke.data import routes

SECRET = "edge-secret-for-tests"
SAMPLE_PATHS = [
    "/", "/login", "/api/health", "/api/v1/push", "/api/v1/push/extra", "/prometheus/api/v1/query",
    "/loki/api/v1/push", "/loki/api/v1/query_range", "/loki", "/v1/traces", "/v1/traces/x",
    "/tempo/api/traces/abc", "/tempo/ready", "/tempo", "/pyroscope/ingest", "/pyroscope/render",
    "/push.v1.PusherService/Push", "/querier.v1.QuerierService/SelectMergeStacktraces",
    "/loki/api/v1/delete", "/loki/api/v1/delete_requests", "/metrics", "/debug/pprof/heap", "/config",
    "/flush", "/ingester/shutdown", "/prometheus/api/v1/user_stats", "/api/v1/user_stats", "/ring",
    "/tempo/shutdown", "/tempo/metrics", "/tempo/flush",
]


class Echo(Backend):
    """Answers with its target group and the path it received."""

    def __init__(self, tg):
        super().__init__()
        self.name = tg

    @route("/", "/<path:rest>")
    def any(self, req: Request, rest: str = "") -> Response:
        return json_response({"tg": self.name, "path": req.path})


@pytest.fixture(scope="module")
def alb(tmp_path_factory):
    table = routes.load()
    servers = {tg: BackendServer(Echo(tg)).start() for tg in table.target_groups}
    nginx = Nginx(tmp_path_factory.mktemp("nginx"), free_port())
    nginx.start(Listeners(table.alb_rules(), table.default, {tg: f"127.0.0.1:{s.port}" for tg, s in servers.items()},
                          edge_secrets=(SECRET,)))
    yield table, nginx
    nginx.stop()
    for s in servers.values():
        s.stop()


@pytest.mark.parametrize("secret", [SECRET, None], ids=["with-edge-secret", "without"])
@pytest.mark.parametrize("path", SAMPLE_PATHS)
def test_nginx_routes_like_the_listener_rules(alb, path, secret):
    table, nginx = alb
    headers = {table.edge_header: secret} if secret else {}
    r = requests.get(nginx.url + path, headers=headers, timeout=5)
    rule = table.listener_rule(path, authenticated=secret == SECRET)
    if rule.fixed is not None:
        assert (r.status_code, r.text) == (rule.fixed.status, rule.fixed.body), f"{path}: {r.status_code} {r.text}"
        assert r.headers["Content-Type"] == rule.fixed.content_type
        return
    assert r.status_code == 200, f"{path}: {r.status_code}"
    assert r.json()["tg"] == rule.target_group
    expected_path = path
    if rule.rewrite:
        regex, replace = rule.rewrite
        expected_path = re.sub(regex, replace.replace("$", "\\"), path)
    assert r.json()["path"] == expected_path


def test_tempo_prefix_is_stripped_and_query_kept(alb):
    table, nginx = alb
    r = requests.get(nginx.url + "/tempo/api/search", params={"q": "{}"}, headers={table.edge_header: SECRET},
                     timeout=5)
    assert r.json() == {"tg": "tempo", "path": "/api/search"}


def test_admin_endpoints_never_reach_a_backend(alb):
    table, nginx = alb
    for path in ("/flush", "/config", "/loki/api/v1/delete", "/metrics"):
        r = requests.get(nginx.url + path, headers={table.edge_header: SECRET}, timeout=5)
        assert r.status_code in (403, 404) and "tg" not in r.text, path
        assert table.listener_rule(path, authenticated=True).target_group is None


def test_alb_pattern_semantics():
    rx = routes.alb_pattern_regex("/loki/*")
    assert rx.fullmatch("/loki/api") and rx.fullmatch("/loki/") and not rx.fullmatch("/loki")
    assert routes.alb_pattern_regex("/a?c").fullmatch("/abc") and not routes.alb_pattern_regex("/a?c").fullmatch("/ac")
    exact = routes.alb_pattern_regex("/v1/traces")
    assert exact.fullmatch("/v1/traces") and not exact.fullmatch("/v1/traces/x")


def test_route_table_is_well_formed():
    table = routes.load()
    priorities = [r.priority for r in table.alb_rules()]
    assert len(set(priorities)) == len(priorities), "ALB rule priorities must be unique"
    for rule in table.rules:
        assert (rule.target_group is None) != (rule.fixed is None), f"{rule.name}: forward or fixed response"
        assert 1 <= len(rule.paths) <= (4 if rule.edge_auth else 5), f"{rule.name}: too many condition values"
        if rule.target_group:
            assert rule.target_group in table.target_groups, rule.name
    assert table.default.fixed is not None or table.default.target_group in table.target_groups
