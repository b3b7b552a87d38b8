"""The Mimir gate (real Prometheus behind Mimir's API) answers as real Mimir/Cortex did
in ../shared/contracts/mimir.json: same status codes, content types, error texts and JSON
shapes. Exchanges are replayed in recorded order, since later ones depend on earlier pushes.
"""
from __future__ import annotations

import re
import time

import pytest
import requests
from lgtm_refstack.faults import Faults
from lgtm_refstack.mimir import MimirGate
from lgtm_refstack.prometheus import PrometheusPool
from lgtm_refstack.web import BackendServer

from lgtm_smoke.protocol import remote_write

TENANT = "smoke-tenant"
LABELS = {"__name__": "lgtm_smoke_probe", "job": "lgtm-smoke", "check": "mimir"}
# Texts that differ between Cortex and Prometheus/Mimir by design (see contracts/README.md):
# the status code and the error family must agree, the wording around it may not.
ERROR_FAMILY = {
    "remote_write_too_old": "out of bounds",
    "remote_write_duplicate_ts_other_value": "duplicate sample for timestamp",
}


@pytest.fixture(scope="module")
def gate(tmp_path_factory):
    pool = PrometheusPool(tmp_path_factory.mktemp("prom"))
    server = BackendServer(MimirGate(pool, Faults())).start()
    yield server
    server.stop()
    pool.stop()


@pytest.fixture(scope="module")
def replay(gate, contracts):
    """Replay every recorded exchange in order; return {name: (recorded, live response)}."""
    now_ms = int(time.time() * 1000)
    value = float(now_ms // 1000)
    bodies = {
        "remote_write_ok": remote_write.encode([remote_write.Series(LABELS, value, now_ms)]),
        "remote_write_no_tenant": remote_write.encode([remote_write.Series(LABELS, value, now_ms)]),
        "remote_write_not_snappy": b"raw bytes, not snappy",
        "remote_write_too_old": remote_write.encode([remote_write.Series(LABELS, value, now_ms - 2 * 3600 * 1000)]),
        "remote_write_duplicate_ts_other_value": remote_write.encode([remote_write.Series(LABELS, value + 1, now_ms)]),
        "remote_write_missing_metric_name": remote_write.encode([remote_write.Series({"job": "x"}, 1, now_ms)]),
    }
    out = {}
    for ex in contracts["mimir"]:
        req = ex["request"]
        params = dict(req.get("params") or {})
        for key in ("time", "end"):
            if key in params:
                params[key] = f"{now_ms / 1000 + 1:.3f}"
        if "start" in params:
            params["start"] = f"{now_ms / 1000 - 60:.3f}"
        live = requests.request(req["method"], gate.url + req["path"], params=params,
                                headers=req.get("headers") or {}, data=bodies.get(ex["name"]), timeout=10)
        out[ex["name"]] = (ex, live)
    return out, value


def contracts_file():
    import json
    from pathlib import Path

    return json.loads((Path(__file__).resolve().parents[3] / "shared" / "contracts" / "mimir.json").read_text())


@pytest.mark.parametrize("name", [ex["name"] for ex in contracts_file()])
def test_gate_answers_like_recorded_mimir(replay, name):
    """Status, content type and body of each exchange match the recording."""
    exchanges, value = replay
    recorded, live = exchanges[name]
    want = recorded["response"]
    assert live.status_code == want["status"], f"{name}: {live.status_code} {live.text!r}"
    assert (live.headers.get("Content-Type") or "") == want["content_type"]
    if "json" in want:
        got = live.json()
        assert got.keys() == want["json"].keys()
        if want["json"].get("status") == "success":
            assert got["data"] and type(got["data"]) is type(want["json"]["data"])
            if isinstance(want["json"]["data"], dict):
                assert got["data"]["resultType"] == want["json"]["data"]["resultType"]
                if want["json"]["data"]["result"]:
                    series = got["data"]["result"][0]
                    assert {k: v for k, v in series["metric"].items()} == want["json"]["data"]["result"][0]["metric"]
                    sample = series.get("value") or series["values"][-1]
                    assert float(sample[1]) == value
                else:
                    assert got["data"]["result"] == []
            else:
                assert got["data"] == want["json"]["data"]
        else:
            assert got["errorType"] == want["json"]["errorType"]
            assert got["error"] == want["json"]["error"]
    elif name in ERROR_FAMILY:
        assert ERROR_FAMILY[name] in live.text and ERROR_FAMILY[name] in want["text"]
    else:
        assert live.text == want["text"]


def test_tenants_are_isolated_in_separate_tsdbs(gate):
    """A sample written as tenant A is invisible to tenant B (each has its own Prometheus)."""
    ts = int(time.time() * 1000)
    body = remote_write.encode([remote_write.Series({"__name__": "iso_probe"}, 7, ts)])
    assert requests.post(gate.url + "/api/v1/push", data=body, headers={"X-Scope-OrgID": "a"}).status_code == 200
    q = {"query": "iso_probe", "time": f"{ts / 1000:.3f}"}
    a = requests.get(gate.url + "/prometheus/api/v1/query", params=q, headers={"X-Scope-OrgID": "a"}).json()
    b = requests.get(gate.url + "/prometheus/api/v1/query", params=q, headers={"X-Scope-OrgID": "b"}).json()
    assert [r["value"][1] for r in a["data"]["result"]] == ["7"]
    assert b["data"]["result"] == []


@pytest.mark.parametrize("fault, tenant_seen", [("mimir-no-auth", "anonymous")])
def test_no_auth_fault_accepts_pushes_without_tenant(tmp_path, fault, tenant_seen):
    """Under mimir-no-auth a push without X-Scope-OrgID lands in the 'anonymous' tenant."""
    pool = PrometheusPool(tmp_path)
    server = BackendServer(MimirGate(pool, Faults([fault]))).start()
    try:
        ts = int(time.time() * 1000)
        body = remote_write.encode([remote_write.Series({"__name__": "anon_probe"}, 3, ts)])
        assert requests.post(server.url + "/api/v1/push", data=body).status_code == 200
        r = requests.get(server.url + "/prometheus/api/v1/query",
                         params={"query": "anon_probe", "time": f"{ts / 1000:.3f}"},
                         headers={"X-Scope-OrgID": tenant_seen}).json()
        assert [x["value"][1] for x in r["data"]["result"]] == ["3"]
    finally:
        server.stop()
        pool.stop()


def test_prometheus_decodes_our_remote_write_encoding(gate):
    """The encoder is right because real Prometheus stores exactly what it encoded."""
    ts = int(time.time() * 1000)
    labels = {"__name__": "encoder_probe", "b": "2", "a": 'quote"and\\slash', "unicode": "한글"}
    body = remote_write.encode([remote_write.Series(labels, 123456789012.0, ts)])
    assert requests.post(gate.url + "/api/v1/push", data=body, headers={"X-Scope-OrgID": "enc"}).status_code == 200
    r = requests.get(gate.url + "/prometheus/api/v1/query", params={"query": "encoder_probe", "time": f"{ts / 1000:.3f}"},
                     headers={"X-Scope-OrgID": "enc"}).json()
    [series] = r["data"]["result"]
    assert series["metric"] == labels
    assert series["value"][1] == "123456789012"
    assert re.fullmatch(r"\d+(\.\d+)?", str(series["value"][0]))
