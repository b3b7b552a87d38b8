"""The stand-ins register the admin, debug and internal routes the real backends register
(../shared/contracts/admin-routes.json) and answer them as recorded, so a route the ALB wrongly
opens shows through the reference stack as it would in production; state-changing routes
answer harmlessly and are counted.

Runbook: a failure names the backend, route and what differs from the recording — fix the stand-in.
"""
from __future__ import annotations

import json

import pytest
import requests
from lgtm_refstack import admin
from lgtm_refstack.faults import Faults
from lgtm_refstack.loki import LokiEmulator
from lgtm_refstack.mimir import MimirGate
from lgtm_refstack.prometheus import PrometheusPool
from lgtm_refstack.pyroscope import PyroscopeEmulator
from lgtm_refstack.tempo import TempoAPI
from lgtm_refstack.web import BackendServer

TENANT = {"X-Scope-OrgID": "t1"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    pool = PrometheusPool(tmp_path_factory.mktemp("prom"))
    backends = {"loki": LokiEmulator(Faults()), "tempo": TempoAPI(Faults()), "mimir": MimirGate(pool, Faults()),
                "pyroscope": PyroscopeEmulator(Faults())}
    started = {name: BackendServer(b).start() for name, b in backends.items()}
    yield started
    for s in started.values():
        s.stop()
    pool.stop()


def test_the_packaged_catalogue_is_the_recorded_contract(repo_root):
    shared = json.loads((repo_root.parent / "shared" / "contracts" / "admin-routes.json").read_text())
    assert admin.catalogue() == shared, "refresh refstack/lgtm_refstack/data/admin-routes.json from ../shared/contracts"


def _recorded_gets():
    for backend, spec in admin.catalogue()["backends"].items():
        for r in spec["routes"]:
            get = r.get("get") or {}
            if get.get("status") is not None:
                yield pytest.param(backend, r, id=f"{backend} {r['path']}")


@pytest.mark.parametrize("backend, route", list(_recorded_gets()))
def test_get_answers_as_recorded(servers, backend, route):
    """Registered routes answer the recorded status, content type and body (its first 200
    characters); routes the real binary does not register answer its 404."""
    server = servers[backend]
    path = route.get("request") or route["path"]
    before = dict(server.backend.state_changes)
    r = requests.get(server.url + path, headers=TENANT, timeout=5, allow_redirects=False)
    want = route["get"]
    if server.backend.urls.bind("x").test(path.split("?")[0], "GET") is False and route.get("registered") is not False:
        pytest.fail(f"{backend} does not register {route['path']} ({route['source']})")
    assert r.status_code == want["status"], f"{backend} GET {path}: {r.status_code}, recorded {want['status']}"
    assert r.headers.get("Content-Type") == want.get("content_type"), f"{backend} GET {path}"
    if want.get("body"):
        assert r.text.startswith(want["body"][:200]), f"{backend} GET {path}: {r.text[:80]!r}"
    assert dict(server.backend.state_changes) == before  # a GET the recording sent never acts


def test_state_changing_routes_answer_harmlessly_and_are_counted(servers):
    tempo = servers["tempo"]
    r = requests.options(tempo.url + "/shutdown", timeout=5)  # Tempo acts on any method
    assert (r.status_code, r.text) == (200, "shutdown job acknowledged")
    assert requests.get(tempo.url + "/ready", timeout=5).status_code == 200  # and yet nothing stopped
    assert tempo.backend.state_changes["OPTIONS /shutdown"] == 1
    mimir = servers["mimir"]
    assert requests.post(mimir.url + "/ingester/flush", timeout=5).status_code == 204
    assert requests.options(mimir.url + "/ingester/flush", timeout=5).status_code == 405  # GET, POST only: no act
    assert requests.get(mimir.url + "/ingester/prepare-shutdown", timeout=5).status_code == 200  # GET only reads
    assert dict(mimir.backend.state_changes) == {"POST /ingester/flush": 1}


def test_gorilla_mux_answers_unknown_paths_and_methods(servers):
    for backend, server in servers.items():
        r = requests.get(server.url + "/no-such-path-xyz", timeout=5)
        assert (r.status_code, r.text) == (404, "404 page not found\n"), backend
    r = requests.head(servers["mimir"].url + "/config", timeout=5)  # a GET route: mux adds no HEAD
    assert r.status_code == 405 and "Content-Type" not in r.headers


def test_tempo_metrics_is_served_as_the_real_tempo_serves_it(servers):
    """The issue's example: /tempo/metrics opened by a rule must show locally (a 200, as from Tempo)."""
    r = requests.get(servers["tempo"].url + "/metrics", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
