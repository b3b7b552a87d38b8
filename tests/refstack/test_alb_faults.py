"""The reference stack's ALB faults, seen from outside as a client sees them: HTTPS from the
stack's own CA, plain HTTP redirected, the edge secret required, unknown paths a fixed 404, and
each fault breaking exactly that. The smoke suite's view of them is the fault matrix's."""
from __future__ import annotations

import json

import pytest
import requests
from lgtm_refstack.stack import ReferenceStack

from lgtm_smoke.data import routes

ALLOW_LIST = "default_action" in json.loads(routes.default_path().read_text())
needs_allow_list = pytest.mark.skipif(not ALLOW_LIST, reason="infra/routes.json is still the deny-list format")


@pytest.fixture(scope="module")
def stack():
    with ReferenceStack(tenants=("t-alb",), tls=True) as s:
        yield s


@pytest.fixture
def get(stack):
    def get(path: str, secret: bool = True, **kw):
        headers = {"X-Scope-OrgID": "t-alb", **({"X-LGTM-Edge-Secret": stack.edge_secret} if secret else {})}
        return requests.get(stack.url + path, headers=headers, verify=str(stack.ca_bundle), allow_redirects=False,
                            timeout=5, **kw)

    yield get
    stack.set_faults([])


def test_https_from_the_stacks_own_ca_and_http_redirects(stack, get):
    assert stack.url.startswith("https://")
    assert get("/api/health").status_code == 200
    r = requests.get(stack.http_url + "/api/health?x=1", allow_redirects=False, timeout=5)
    assert r.status_code == 301 and r.headers["Location"] == f"{stack.url}/api/health?x=1"


def test_tls_untrusted_serves_a_certificate_the_suite_was_not_given(stack, get):
    stack.set_faults(["tls-untrusted"])
    with pytest.raises(requests.exceptions.SSLError):
        get("/api/health")


def test_http_not_redirected_serves_plain_text(stack):
    stack.set_faults(["http-not-redirected"])
    r = requests.get(stack.http_url + "/api/health", allow_redirects=False, timeout=5)
    assert r.status_code == 200


@needs_allow_list
def test_edge_secret_is_required_until_edge_auth_is_off(stack, get):
    assert get("/loki/api/v1/labels", secret=False).status_code == 401
    assert get("/loki/api/v1/labels").status_code == 200
    stack.set_faults(["edge-auth-off"])
    assert get("/loki/api/v1/labels", secret=False).status_code == 200


@needs_allow_list
def test_unknown_paths_are_the_albs_404_until_the_default_forwards(stack, get):
    table = routes.load()
    r = get("/no/such/path")
    assert (r.status_code, r.text) == (404, table.default.fixed.body)
    stack.set_faults(["alb-forwards-unknown-paths"])
    r = get("/no/such/path")
    assert r.status_code == 404 and r.text != table.default.fixed.body  # Grafana's page now


@needs_allow_list
def test_tempo_admin_via_prefix_reaches_tempo_admin_routes(stack, get):
    assert get("/tempo/metrics").status_code == 404
    stack.set_faults(["tempo-admin-via-prefix"])
    assert get("/tempo/metrics").status_code == 200  # Tempo's own /metrics, as a real one answers
    assert get("/tempo/api/echo").text == "echo\n"
    assert stack.state_changes() == {}


def test_listener_rules_file_is_the_effective_rules(stack):
    rules = json.loads(stack.listener_rules.read_text())
    assert rules[-1]["IsDefault"] and rules[-1]["Priority"] == "default"
    assert [r["Priority"] for r in rules[:-1]] == [str(r.priority) for r in stack.alb_rules()]
    stack.set_faults(["edge-auth-off"])
    try:
        after = json.loads(stack.listener_rules.read_text())
        assert not any(c["Field"] == "http-header" for r in after for c in r["Conditions"])
    finally:
        stack.set_faults([])
    assert stack.listener_rules.stat().st_mode & 0o077 == 0  # it holds the edge secret
