"""The Grafana stand-in answers every endpoint the smoke suite calls with a status code the
published OpenAPI spec lists for it and a body that validates against that response's schema
(../shared/contracts/grafana-openapi3.json, see the .md beside it). Each exchange below is
one situation the suite can meet: logged in, no login, wrong login, anonymous Viewer, unknown
datasource, a datasource whose backend is down.

Runbook: a failure names the endpoint, the status and the schema error — fix the stand-in.
"""
from __future__ import annotations

import pytest
import requests
from jsonschema import Draft7Validator
from lgtm_refstack.faults import Faults
from lgtm_refstack.grafana import DATASOURCES, Grafana
from lgtm_refstack.ports import closed_port
from lgtm_refstack.web import (
    Backend,
    BackendServer,
    Request,
    Response,
    json_response,
    route,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

PASSWORD = "s3cret-for-openapi"
SPEC_URI = "urn:grafana-openapi3"
ADMIN, WRONG = ("admin", PASSWORD), ("admin", "nope")
# The endpoints the smoke suite calls (grafana-openapi3.md), as spec templates under /api.
SUITE_CALLS = {("/user", "get"), ("/datasources", "get"), ("/datasources/uid/{uid}", "get"),
               ("/datasources/uid/{uid}/health", "get"), ("/datasources/proxy/uid/{uid}/{datasource_proxy_route}", "get"),
               ("/datasources/proxy/uid/{uid}/{datasource_proxy_route}", "post"), ("/admin/settings", "get"),
               ("/search", "get")}


class Upstream(Backend):
    """A backend behind a datasource: 200 with a small JSON body to GET and POST."""

    name = "upstream"

    @route("/", "/<path:rest>", methods=("GET", "POST"))
    def any(self, req: Request, rest: str = "") -> Response:
        return json_response({"status": "success", "data": []})


@pytest.fixture(scope="module")
def grafana():
    faults = Faults()
    upstream = BackendServer(Upstream(faults)).start()
    dead = f"http://127.0.0.1:{closed_port()}"
    server = BackendServer(Grafana(faults, password=PASSWORD, tenant="t-openapi",
                                   upstream=lambda tg: dead if tg == "tempo" else upstream.url)).start()
    yield server.url, faults
    server.stop()
    upstream.stop()


@pytest.fixture(scope="module")
def spec(contracts):
    return contracts["grafana-openapi3"]


def _validator(spec: dict, ref: str) -> Draft7Validator:
    registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT7))
    return Draft7Validator({"$ref": f"{SPEC_URI}{ref}"}, registry=registry)


def _response_schema(spec: dict, template: str, method: str, status: int) -> str | None:
    responses = spec["paths"][template][method]["responses"]
    assert str(status) in responses, (f"{method.upper()} /api{template}: {status} is not a status the spec lists "
                                      f"({sorted(responses)})")
    resp = responses[str(status)]
    if "$ref" in resp:
        resp = spec["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
    schema = resp.get("content", {}).get("application/json", {}).get("schema")
    return schema.get("$ref") if schema else None


UID = DATASOURCES[0].uid
# (template, method, concrete path, situation: auth, faults, expected status)
EXCHANGES = [
    ("/user", "get", "/api/user", ADMIN, [], 200),
    ("/user", "get", "/api/user", None, [], 401),
    ("/user", "get", "/api/user", WRONG, [], 401),
    ("/user", "get", "/api/user", None, ["grafana-anonymous"], 404),
    ("/search", "get", "/api/search", ADMIN, [], 200),
    ("/search", "get", "/api/search", None, [], 401),
    ("/datasources", "get", "/api/datasources", ADMIN, [], 200),
    ("/datasources", "get", "/api/datasources", None, [], 401),
    ("/datasources", "get", "/api/datasources", None, ["grafana-anonymous"], 403),
    ("/datasources/uid/{uid}", "get", f"/api/datasources/uid/{UID}", ADMIN, [], 200),
    ("/datasources/uid/{uid}", "get", "/api/datasources/uid/no-such-uid", ADMIN, [], 404),
    ("/datasources/uid/{uid}", "get", f"/api/datasources/uid/{UID}", None, [], 401),
    ("/datasources/uid/{uid}", "get", f"/api/datasources/uid/{UID}", None, ["grafana-anonymous"], 403),
    ("/datasources/uid/{uid}/health", "get", f"/api/datasources/uid/{UID}/health", ADMIN, [], 200),
    ("/datasources/uid/{uid}/health", "get", "/api/datasources/uid/tempo/health", ADMIN, [], 400),
    ("/datasources/uid/{uid}/health", "get", f"/api/datasources/uid/{UID}/health", None, [], 401),
    ("/datasources/proxy/uid/{uid}/{datasource_proxy_route}", "get",
     f"/api/datasources/proxy/uid/{UID}/api/v1/query?query=1", ADMIN, [], 200),
    ("/datasources/proxy/uid/{uid}/{datasource_proxy_route}", "get",
     f"/api/datasources/proxy/uid/{UID}/api/v1/query", None, [], 401),
    ("/datasources/proxy/uid/{uid}/{datasource_proxy_route}", "get",
     "/api/datasources/proxy/uid/no-such-uid/api/v1/query", ADMIN, [], 404),
    ("/datasources/proxy/uid/{uid}/{datasource_proxy_route}", "post",
     f"/api/datasources/proxy/uid/{UID}/api/v1/query", None, [], 401),
    ("/datasources/proxy/uid/{uid}/{datasource_proxy_route}", "post",
     "/api/datasources/proxy/uid/no-such-uid/api/v1/query", ADMIN, [], 404),
    ("/admin/settings", "get", "/api/admin/settings", ADMIN, [], 200),
    ("/admin/settings", "get", "/api/admin/settings", None, [], 401),
    ("/admin/settings", "get", "/api/admin/settings", None, ["grafana-anonymous"], 403),
]


def test_every_endpoint_the_suite_calls_is_exercised():
    assert {(t, m) for t, m, *_ in EXCHANGES} == SUITE_CALLS


@pytest.mark.parametrize("template, method, path, auth, faults, status", EXCHANGES,
                         ids=[f"{m.upper()} {p.split('?')[0]} {'admin' if a == ADMIN else 'wrong' if a == WRONG else 'anon'}"
                              f"{' ' + f[0] if f else ''}" for _, m, p, a, f, _ in EXCHANGES])
def test_answer_matches_the_published_openapi_spec(grafana, spec, template, method, path, auth, faults, status):
    url, active = grafana
    active.set(faults)
    try:
        r = requests.request(method.upper(), url + path, auth=auth, timeout=10)
    finally:
        active.set([])
    assert r.status_code == status, f"{method.upper()} {path}: {r.status_code} {r.text[:200]}"
    ref = _response_schema(spec, template, method, r.status_code)
    if ref is None:
        return  # the spec gives no body schema (the proxy's pass-through answer)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers["Content-Type"]
    errors = sorted(_validator(spec, ref).iter_errors(r.json()), key=lambda e: list(e.path))
    assert not errors, f"{method.upper()} {path} ({status}) against {ref}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_schema_check_can_fail(spec):
    """A body the spec forbids (an error without `message`, a string id) does not validate."""
    assert list(_validator(spec, "#/components/schemas/ErrorResponseBody").iter_errors({"error": "x"}))
    assert list(_validator(spec, "#/components/schemas/DataSource").iter_errors({"id": "1"}))
