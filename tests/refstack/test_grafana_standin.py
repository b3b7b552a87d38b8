"""The Grafana stand-in answers like Grafana 12.1: public health, basic-auth login with
Grafana's 401 shapes, the provisioned datasources with their tenant header kept secret,
datasource health, and a proxy that adds the datasource's X-Scope-OrgID and never forwards
the caller's credentials. Faults change exactly the behaviour they name."""
from __future__ import annotations

import json

import pytest
import requests
from lgtm_refstack.faults import Faults
from lgtm_refstack.grafana import Grafana
from lgtm_refstack.stack import ReferenceStack
from lgtm_refstack.web import (
    Backend,
    BackendServer,
    Request,
    Response,
    json_response,
    route,
)

PASSWORD = "pw-standin-7c1d"
TENANT = "t-standin"


class Echo(Backend):
    """An upstream that answers with what it received (401 `no org id` without a tenant)."""

    name = "echo"

    @route("/", "/<path:rest>")
    def echo(self, req: Request, rest: str = "") -> Response:
        tenant = self.tenant(req)
        return json_response({"method": req.method, "path": req.path, "query": req.args.to_dict(flat=False),
                              "tenant": tenant, "authorization": req.headers.get("authorization"),
                              "body": req.get_data().decode()})


@pytest.fixture(scope="module")
def servers():
    faults = Faults()
    upstream = BackendServer(Echo(faults)).start()
    grafana = BackendServer(Grafana(faults, password=PASSWORD, tenant=TENANT, upstream=lambda tg: upstream.url)).start()
    yield grafana, faults
    grafana.stop()
    upstream.stop()


@pytest.fixture
def grafana(servers):
    server, faults = servers
    faults.set([])
    yield server.url
    faults.set([])


@pytest.fixture
def faults(servers):
    return servers[1]


ADMIN = ("admin", PASSWORD)


def test_health_is_public_and_shaped_like_grafana_12(grafana):
    r = requests.get(f"{grafana}/api/health")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert set(r.json()) == {"commit", "database", "version"}
    assert r.json()["database"] == "ok" and r.json()["version"] == "12.1.0"


@pytest.mark.parametrize("path", ["/api/datasources", "/api/search", "/api/user", "/api/datasources/uid/loki",
                                  "/api/datasources/proxy/uid/loki/loki/api/v1/labels"])
def test_api_without_login_is_401_unauthorized(grafana, path):
    r = requests.get(f"{grafana}{path}")
    assert r.status_code == 401
    assert r.json()["message"] == "Unauthorized" and r.json()["statusCode"] == 401


@pytest.mark.parametrize("auth", [("admin", "admin"), ("admin", PASSWORD + "x"), ("root", PASSWORD)])
def test_wrong_credentials_are_refused(grafana, auth):
    r = requests.get(f"{grafana}/api/user", auth=auth)
    assert r.status_code == 401 and r.json()["message"] == "Invalid username or password"


def test_the_stacks_password_logs_in(grafana):
    r = requests.get(f"{grafana}/api/user", auth=ADMIN)
    assert r.status_code == 200 and r.json()["login"] == "admin"


def test_four_datasources_are_provisioned_with_the_tenant_header_kept_secret(grafana):
    listing = requests.get(f"{grafana}/api/datasources", auth=ADMIN).json()
    assert {(d["uid"], d["type"]) for d in listing} == {
        ("mimir", "prometheus"), ("loki", "loki"), ("tempo", "tempo"), ("pyroscope", "grafana-pyroscope-datasource")}
    for d in listing:
        full = requests.get(f"{grafana}/api/datasources/uid/{d['uid']}", auth=ADMIN)
        assert full.json()["jsonData"] == {"httpHeaderName1": "X-Scope-OrgID"}
        assert full.json()["secureJsonFields"] == {"httpHeaderValue1": True}
        assert TENANT not in full.text and PASSWORD not in full.text  # secure values are never returned
    assert next(d for d in listing if d["uid"] == "mimir")["url"].endswith("/prometheus")
    assert requests.get(f"{grafana}/api/datasources/uid/nope", auth=ADMIN).status_code == 404


def test_proxy_adds_the_tenant_and_drops_the_callers_credentials(grafana):
    r = requests.post(f"{grafana}/api/datasources/proxy/uid/mimir/api/v1/query?query=up&time=1", auth=ADMIN,
                      data=b"x=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    got = r.json()
    assert r.status_code == 200
    assert got["path"] == "/prometheus/api/v1/query" and got["query"] == {"query": ["up"], "time": ["1"]}
    assert got["tenant"] == TENANT and got["authorization"] is None and got["body"] == "x=1"


@pytest.mark.parametrize("uid", ["mimir", "loki", "tempo", "pyroscope"])
def test_datasource_health_is_ok_when_the_backend_answers(grafana, uid):
    r = requests.get(f"{grafana}/api/datasources/uid/{uid}/health", auth=ADMIN)
    assert r.status_code == 200 and r.json()["status"] == "OK"


def test_datasource_without_tenant_fails_health_and_proxy_gets_401(grafana, faults):
    faults.set(["grafana-datasource-no-tenant"])
    health = requests.get(f"{grafana}/api/datasources/uid/loki/health", auth=ADMIN)
    assert health.status_code == 400 and health.json()["status"] == "ERROR" and "no org id" in health.json()["message"]
    proxied = requests.get(f"{grafana}/api/datasources/proxy/uid/loki/loki/api/v1/labels", auth=ADMIN)
    assert proxied.status_code == 401 and "no org id" in proxied.text
    assert requests.get(f"{grafana}/api/datasources/uid/loki", auth=ADMIN).json()["jsonData"] == {}
    # only Loki lost it
    assert requests.get(f"{grafana}/api/datasources/uid/mimir/health", auth=ADMIN).json()["status"] == "OK"


def test_default_password_fault_accepts_admin_admin(grafana, faults):
    faults.set(["grafana-default-password"])
    assert requests.get(f"{grafana}/api/user", auth=("admin", "admin")).status_code == 200


def test_anonymous_fault_makes_a_viewer_without_login(grafana, faults):
    faults.set(["grafana-anonymous"])
    assert requests.get(f"{grafana}/api/search").status_code == 200
    assert requests.get(f"{grafana}/api/datasources").status_code == 403  # Viewers cannot read settings...
    assert requests.get(f"{grafana}/api/datasources/proxy/uid/loki/x").json()["tenant"] == TENANT  # ...but can query


def test_the_password_never_shows_in_a_repr():
    assert PASSWORD not in repr(Grafana(password=PASSWORD))


def test_admin_endpoints_never_reach_mimir_until_the_fault_exposes_them():
    with ReferenceStack(tls=False) as stack:
        edge = {"X-LGTM-Edge-Secret": stack.edge_secret}
        for path in ("/config", "/ingester/flush", "/ingester/shutdown", "/runtime_config"):
            assert requests.get(stack.url + path, headers=edge).status_code in (403, 404), path
        stack.set_faults(["admin-endpoint-exposed"])
        r = requests.get(stack.url + "/config", headers=edge)
        assert r.status_code == 200 and "multitenancy_enabled" in r.text  # Mimir 2.17's recorded /config
        assert requests.options(stack.url + "/ingester/flush", headers=edge).status_code == 405  # GET, POST only
        assert stack.state_changes() == {}
        assert requests.post(stack.url + "/ingester/flush", headers=edge).status_code == 204
        assert stack.state_changes() == {"mimir POST /ingester/flush": 1}  # answered harmlessly, counted
        stack.set_faults([])
        assert requests.get(stack.url + "/config", headers=edge).status_code in (403, 404)


def test_the_stack_generates_a_grafana_password_and_its_grafana_uses_it():
    with ReferenceStack(tls=False) as stack:
        assert len(stack.grafana_password) >= 12 and stack.grafana_password != "admin"
        assert stack.grafana_password not in json.dumps(stack.describe())
        assert requests.get(stack.url + "/api/user", auth=("admin", stack.grafana_password)).status_code == 200
        assert requests.get(stack.url + "/api/user", auth=("admin", "admin")).status_code == 401
