"""The Pyroscope stand-in answers like Pyroscope v1.13.5 with multitenancy on.

There is no recorded contract for Pyroscope in ../shared/contracts; these tests pin the facts
of ../shared/reference/backend-api.md §1 (routes, shapes, statuses, error JSON) and, most
convincingly, accept what the official Python agent (`pyroscope-io`) sends.

Runbook: a failure here means the stand-in drifted from real Pyroscope — fix the stand-in.
"""
from __future__ import annotations

import gzip
import json
import threading
import time

import pytest
import requests
from google.protobuf import json_format
from lgtm_refstack.faults import Faults
from lgtm_refstack.pyroscope import PyroscopeEmulator, parse_attime
from lgtm_refstack.web import BackendServer

from lgtm_smoke.protocol import pprof

T = "t-pyro"
CPU = pprof.CPU_PROFILE_TYPE
STACKS = [pprof.Stack(("main", "work", "leaf_a"), 30_000_000), pprof.Stack(("main", "leaf_b"), 50_000_000)]


@pytest.fixture(scope="module")
def _server():
    server = BackendServer(PyroscopeEmulator(Faults())).start()
    yield server
    threading.Thread(target=server.stop, daemon=True).start()


@pytest.fixture
def pyro(_server):
    """A fresh emulator (empty store, no faults) on the running server; `.faults` can be set."""
    _server.backend = PyroscopeEmulator(Faults())
    return _server


def url(server, path):
    return f"{server.url}{path}"


def ingest(server, body: bytes, name="smoke-app{env=test}", tenant=T, **params):
    headers = {"X-Scope-OrgID": tenant} if tenant else {}
    now = int(time.time())
    q = {"name": name, "format": "pprof", "from": str(now - 10), "until": str(now), **params}
    return requests.post(url(server, "/pyroscope/ingest"), params=q, data=body, headers=headers, timeout=5)


def render(server, query, tenant=T, **params):
    now = int(time.time() * 1000)
    q = {"query": query, "from": str(now - 60_000), "until": str(now + 60_000), **params}
    return requests.get(url(server, "/pyroscope/render"), params=q, headers={"X-Scope-OrgID": tenant}, timeout=5)


def connect(server, method, payload, tenant=T, ct="application/json", **headers):
    hdrs = {"Content-Type": ct, **headers}
    if tenant:
        hdrs["X-Scope-OrgID"] = tenant
    data = json.dumps(payload).encode() if ct == "application/json" and not isinstance(payload, bytes) else payload
    return requests.post(url(server, method), data=data, headers=hdrs, timeout=5)


def select(server, labels='{service_name="smoke-app"}', tenant=T):
    now = int(time.time() * 1000)
    return connect(server, "/querier.v1.QuerierService/SelectMergeStacktraces",
                   {"profileTypeID": CPU, "labelSelector": labels, "start": str(now - 60_000), "end": str(now + 60_000)},
                   tenant=tenant)


def profile(stacks=STACKS, **kw) -> bytes:
    return pprof.encode(pprof.build_profile(stacks, **kw))


# --- health and ingest ------------------------------------------------------------------------------
def test_ready_needs_no_tenant_and_has_no_newline(pyro):
    r = requests.get(url(pyro, "/ready"), timeout=5)
    assert (r.status_code, r.text, r.headers["Content-Type"]) == (200, "ready", "text/plain")


@pytest.mark.parametrize("path", ["/ingest", "/pyroscope/ingest"])
@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_pprof_ingest_is_200_with_an_empty_body_and_reads_back_exactly(pyro, path, compress):
    now = int(time.time())
    body = pprof.encode(pprof.build_profile(STACKS), compress=compress)
    r = requests.post(url(pyro, path), data=body, headers={"X-Scope-OrgID": T},
                      params={"name": "smoke-app{env=test}", "format": "pprof", "from": str(now - 10), "until": str(now)})
    assert (r.status_code, r.content) == (200, b"")
    fb = render(pyro, CPU + '{service_name="smoke-app",env="test"}').json()
    assert fb["version"] == 1 and fb["metadata"]["format"] == "single"
    assert fb["flamebearer"]["numTicks"] == 80_000_000
    assert pprof.flame_stacks(fb["flamebearer"]["names"], fb["flamebearer"]["levels"]) == {
        ("main", "work", "leaf_a"): 30_000_000, ("main", "leaf_b"): 50_000_000}
    assert fb["groups"] is None and fb["heatmap"] is None


def test_ingest_labels_service_name_from_the_app_name_plus_tags_spy_and_delta(pyro):
    assert ingest(pyro, profile(), spyName="lgtm").status_code == 200
    names = connect(pyro, "/querier.v1.QuerierService/LabelNames", {}).json()["names"]
    assert {"__name__", "service_name", "env", "pyroscope_spy", "__delta__"} <= set(names)
    values = connect(pyro, "/querier.v1.QuerierService/LabelValues", {"name": "service_name"}).json()
    assert values == {"names": ["smoke-app"]}


def test_groups_format_ingest_takes_the_metric_from_the_name_suffix(pyro):
    r = requests.post(url(pyro, "/pyroscope/ingest"), data=b"main;work 3\nmain;idle 1\n",
                      params={"name": "grp-app.cpu", "sampleRate": "100"}, headers={"X-Scope-OrgID": T}, timeout=5)
    assert r.status_code == 200
    fb = render(pyro, CPU + '{service_name="grp-app"}').json()["flamebearer"]
    assert fb["numTicks"] == 4 * 10_000_000  # samples at 100 Hz as nanoseconds


def test_multipart_ingest_reads_the_profile_field(pyro):
    files = {"profile": ("profile.pprof", profile(), "application/octet-stream")}
    r = requests.post(url(pyro, "/ingest"), files=files, params={"name": "mp-app"}, headers={"X-Scope-OrgID": T},
                      timeout=5)
    assert r.status_code == 200, r.text
    assert render(pyro, CPU + '{service_name="mp-app"}').json()["flamebearer"]["numTicks"] == 80_000_000


def test_bad_pprof_at_ingest_is_422_json_code_unknown(pyro):
    r = ingest(pyro, b"\xff\x00 not a profile")
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/json"
    assert r.json()["code"] == "unknown" and r.json()["message"]


def test_bad_app_name_is_400(pyro):
    r = ingest(pyro, profile(), name="app{bad tag}")
    assert r.status_code == 400 and r.json()["message"].startswith("name: ")


@pytest.mark.parametrize("send", ["ingest", "connect", "render", "select"])
def test_missing_tenant_is_401_unauthenticated_no_org_id_on_every_route(pyro, send):
    r = {"ingest": lambda: ingest(pyro, profile(), tenant=None),
         "connect": lambda: connect(pyro, "/push.v1.PusherService/Push", {"series": []}, tenant=None),
         "render": lambda: requests.get(url(pyro, "/pyroscope/render"), params={"query": CPU + "{}"}, timeout=5),
         "select": lambda: connect(pyro, "/querier.v1.QuerierService/SelectMergeStacktraces", {}, tenant=None)}[send]()
    assert r.status_code == 401
    assert r.json() == {"code": "unauthenticated", "message": "no org id"}


# --- Connect push ----------------------------------------------------------------------------------
def push_body(labels, raw):
    return pprof.push_request([(labels, [raw])])


@pytest.mark.parametrize("ct", ["application/json", "application/proto"])
def test_connect_push_json_and_proto_store_the_series(pyro, ct):
    req = push_body({"__name__": "process_cpu", "service_name": "smoke-app", "check": "c"}, profile())
    data = json_format.MessageToJson(req).encode() if ct == "application/json" else req.SerializeToString()
    r = connect(pyro, "/push.v1.PusherService/Push", data, ct=ct)
    assert r.status_code == 200 and r.headers["Content-Type"] == ct
    fg = select(pyro, '{service_name="smoke-app",check="c"}').json()["flamegraph"]
    assert fg["total"] == "80000000" and isinstance(fg["levels"][0]["values"][0], str)  # protojson int64
    assert pprof.flame_stacks(fg["names"], [lv["values"] for lv in fg["levels"]])[("main", "leaf_b")] == 50_000_000


def test_connect_push_accepts_gzip_content_encoding(pyro):
    req = push_body({"__name__": "process_cpu", "service_name": "gz-app"}, profile())
    r = connect(pyro, "/push.v1.PusherService/Push", gzip.compress(req.SerializeToString()), ct="application/proto",
                **{"Content-Encoding": "gzip"})
    assert r.status_code == 200
    assert select(pyro, '{service_name="gz-app"}').json()["flamegraph"]["total"] == "80000000"


@pytest.mark.parametrize("labels, raw, message", [
    ({"__name__": "process_cpu", "service_name": "x"}, b"\xff garbage", "failed to parse profile"),
    ({"__name__": "1-bad", "service_name": "x"}, None, "with error: invalid metric name"),
    ({"__name__": "process_cpu"}, "old", "is outside of ingestion window"),
])
def test_invalid_connect_profiles_are_400_invalid_argument(pyro, labels, raw, message):
    if raw is None:
        raw = profile()
    elif raw == "old":
        raw = profile(time_ns=time.time_ns() - 2 * 3600 * 10**9)
    r = connect(pyro, "/push.v1.PusherService/Push", push_body(labels, raw).SerializeToString(), ct="application/proto")
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
    assert message in r.json()["message"]


def test_an_empty_push_is_no_profiles_received_and_garbage_bytes_are_400(pyro):
    r = connect(pyro, "/push.v1.PusherService/Push", {"series": []})
    assert (r.status_code, r.json()) == (400, {"code": "invalid_argument", "message": "no profiles received"})
    r = connect(pyro, "/push.v1.PusherService/Push", b"\xff\x00\xde\xad", ct="application/proto")
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"


def test_missing_service_name_becomes_unspecified(pyro):
    connect(pyro, "/push.v1.PusherService/Push", push_body({"__name__": "process_cpu"}, profile()).SerializeToString(),
            ct="application/proto")
    assert select(pyro, '{service_name="unspecified"}').json()["flamegraph"]["total"] == "80000000"


# --- query shapes ----------------------------------------------------------------------------------
def test_profile_types_and_label_values_shapes(pyro):
    ingest(pyro, profile())
    types = connect(pyro, "/querier.v1.QuerierService/ProfileTypes", {}).json()
    assert types == {"profileTypes": [{"ID": CPU, "name": "process_cpu", "sampleType": "cpu",
                                       "sampleUnit": "nanoseconds", "periodType": "cpu", "periodUnit": "nanoseconds"}]}
    r = requests.get(url(pyro, "/pyroscope/label-values"), params={"label": "__name__"},
                     headers={"X-Scope-OrgID": T}, timeout=5)
    assert r.json() == [CPU]


def test_empty_answers_omit_empty_repeated_fields_like_protojson(pyro):
    assert connect(pyro, "/querier.v1.QuerierService/ProfileTypes", {}).json() == {}
    assert connect(pyro, "/querier.v1.QuerierService/LabelNames", {}).json() == {}
    fg = select(pyro).json()["flamegraph"]
    assert "total" not in fg and fg["names"] == ["total"]  # protojson omits a zero int64


@pytest.mark.parametrize("query, message", [
    ("", "'query' is required"),
    ('{service_name="x"}', "'query' must contain a profile-type selection"),
    (CPU + '{service_name=x}', "failed to parse 'query'"),
])
def test_render_query_errors_are_400_json(pyro, query, message):
    r = render(pyro, query)
    assert r.status_code == 400 and message in r.json()["message"]


def test_time_window_and_selectors_filter(pyro):
    ingest(pyro, profile(), name="a{k=1}")
    ingest(pyro, profile(), name="a{k=2}")
    assert select(pyro, '{service_name="a"}').json()["flamegraph"]["total"] == "160000000"
    assert select(pyro, '{service_name="a",k="1"}').json()["flamegraph"]["total"] == "80000000"
    assert select(pyro, '{service_name="a",k=~"1|2"}').json()["flamegraph"]["total"] == "160000000"
    assert select(pyro, '{service_name="a",k!="1"}').json()["flamegraph"]["total"] == "80000000"
    old = render(pyro, CPU + '{service_name="a"}', **{"from": "now-2h", "until": "now-1h"}).json()
    assert old["flamebearer"]["numTicks"] == 0


def test_attime_reads_digits_by_length():
    assert parse_attime("1700000000", 0) == 1_700_000_000_000
    assert parse_attime("1700000000123", 0) == 1_700_000_000_123
    assert parse_attime("1700000000123456", 0) == 1_700_000_000_123
    assert parse_attime("1700000000123456789", 0) == 1_700_000_000_123
    assert abs(parse_attime("now-1h", 0) - (time.time() - 3600) * 1000) < 2000


# --- tenancy and faults ----------------------------------------------------------------------------
def test_tenants_are_isolated(pyro):
    ingest(pyro, profile(), tenant="A")
    assert render(pyro, CPU + '{service_name="smoke-app"}', tenant="B").json()["flamebearer"]["numTicks"] == 0
    assert render(pyro, CPU + '{service_name="smoke-app"}', tenant="A").json()["flamebearer"]["numTicks"] == 80_000_000


def test_fault_anonymous_ignores_the_header_everything_is_tenant_anonymous(pyro):
    """Multitenancy off: no 401 without a tenant, and a push as A is what B (or nobody) reads."""
    pyro.backend.faults.set(["pyroscope-anonymous"])
    assert ingest(pyro, profile(), tenant=None).status_code == 200
    assert ingest(pyro, profile(), tenant="A").status_code == 200
    assert render(pyro, CPU + '{service_name="smoke-app"}', tenant="B").json()["flamebearer"]["numTicks"] == 160_000_000
    assert {r.tenant for r in pyro.backend.records} == {"anonymous"}


def test_fault_no_auth_accepts_missing_tenant_as_anonymous(pyro):
    pyro.backend.faults.set(["pyroscope-no-auth"])
    assert ingest(pyro, profile(), tenant=None).status_code == 200
    assert [r.tenant for r in pyro.backend.records] == ["anonymous"]


def test_fault_tenant_leak_and_slow_ingest(pyro):
    pyro.backend.faults.set(["pyroscope-tenant-leak"])
    ingest(pyro, profile(), tenant="A")
    assert render(pyro, CPU + '{service_name="smoke-app"}', tenant="B").json()["flamebearer"]["numTicks"] == 80_000_000
    pyro.backend.faults.set(["pyroscope-slow-ingest=0.4"])
    ingest(pyro, profile(), name="slow-app")
    assert render(pyro, CPU + '{service_name="slow-app"}').json()["flamebearer"]["numTicks"] == 0
    time.sleep(0.45)
    assert render(pyro, CPU + '{service_name="slow-app"}').json()["flamebearer"]["numTicks"] == 80_000_000


# --- the official agent ----------------------------------------------------------------------------
AGENT_SCRIPT = r'''
import sys, time, pyroscope
pyroscope.configure(application_name="agent-app", server_address=sys.argv[1], tenant_id=sys.argv[2],
                    tags={"check": "agent"}, sample_rate=100)
def lgtm_smoke_burn(seconds):
    end = time.time() + seconds
    x = 0
    while time.time() < end:
        x += 1
lgtm_smoke_burn(1.2)
pyroscope.shutdown()
'''


def test_official_pyroscope_io_agent_pushes_and_its_profile_reads_back(pyro, tmp_path):
    """pyroscope-io (Rust pyroscope-rs + py-spy inside) pushes Connect proto, gzip, with X-Scope-OrgID.
    Run in a subprocess: the agent samples the whole process and keeps global state."""
    import subprocess
    import sys

    pytest.importorskip("pyroscope")
    script = tmp_path / "agent.py"
    script.write_text(AGENT_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), pyro.url, T], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if not pyro.backend.records:
        pytest.skip("pyroscope-io sent nothing within its run (no upload on shutdown on this platform): "
                    + proc.stderr[-300:])
    rec = pyro.backend.records[0]
    assert rec.tenant == T and rec.labels["service_name"] == "agent-app" and rec.labels["check"] == "agent"
    types = {r.type_id for r in pyro.backend.records}
    assert any(t.startswith("process_cpu:") for t in types), types
    frames = {f for r in pyro.backend.records for s in r.stacks for f in s.frames}
    assert any("lgtm_smoke_burn" in f for f in frames), sorted(frames)[:20]


def test_a_go_style_profile_stores_both_sample_types_like_pyroscope(pyro):
    ingest(pyro, pprof.encode(pprof.build_profile(STACKS, with_counts=True)))
    ids = {t["ID"] for t in connect(pyro, "/querier.v1.QuerierService/ProfileTypes", {}).json()["profileTypes"]}
    assert ids == {CPU, "process_cpu:samples:count:cpu:nanoseconds"}
    counts = render(pyro, 'process_cpu:samples:count:cpu:nanoseconds{service_name="smoke-app"}').json()
    assert counts["flamebearer"]["numTicks"] == 8  # 80 ms at 10 ms per sample
    assert render(pyro, CPU + '{service_name="smoke-app"}').json()["flamebearer"]["numTicks"] == 80_000_000


def test_querier_speaks_connect_proto_too(pyro):
    """Grafana's Pyroscope datasource calls the querier with Connect's proto codec."""
    q = pprof.QUERIER
    ingest(pyro, profile())
    now = int(time.time() * 1000)
    req = q["SelectMergeStacktracesRequest"](profile_typeID=CPU, label_selector='{service_name="smoke-app"}',
                                             start=now - 60_000, end=now + 60_000, format=1)
    r = connect(pyro, "/querier.v1.QuerierService/SelectMergeStacktraces", req.SerializeToString(),
                ct="application/proto")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/proto"
    assert q["SelectMergeStacktracesResponse"].FromString(r.content).flamegraph.total == 80_000_000
    r = connect(pyro, "/querier.v1.QuerierService/ProfileTypes", b"", ct="application/proto")
    assert [t.ID for t in q["ProfileTypesResponse"].FromString(r.content).profile_types] == [CPU]
    r = connect(pyro, "/querier.v1.QuerierService/LabelValues", q["LabelValuesRequest"](name="env").SerializeToString(),
                ct="application/proto")
    assert list(q["LabelValuesResponse"].FromString(r.content).names) == ["test"]


def test_select_accepts_the_format_enum_by_name_and_rejects_bad_ids(pyro):
    now = int(time.time() * 1000)
    r = connect(pyro, "/querier.v1.QuerierService/SelectMergeStacktraces",
                {"profileTypeID": CPU, "labelSelector": "{}", "start": now - 1000, "end": now,
                 "format": "PROFILE_FORMAT_FLAMEGRAPH"})
    assert r.status_code == 200
    r = connect(pyro, "/querier.v1.QuerierService/SelectMergeStacktraces", {"profileTypeID": "cpu", "start": "1"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
