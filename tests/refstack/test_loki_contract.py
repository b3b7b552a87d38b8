"""The Loki stand-in answers like the real Loki 3.6 did in ../shared/contracts/loki.json.

Runbook:
  - `test_exchange[<name>]` replays one recorded exchange against a fresh `LokiEmulator` served over
    real HTTP. Before the request it seeds what the exchange needs, rebuilt from the contract itself
    (the JSON push body, and the protobuf stream whose line is shown in `query_range_found`). All
    recorded times are shifted to "now" by one whole-millisecond delta, and the expected answer is
    shifted by the same delta. Then status, content type, the exact text (timestamps normalised only
    where Loki prints the wall clock) or the JSON structure and values are compared. In `stats` only
    the timing fields may differ (they must still be numbers); every count must match.
  - `test_fault_*` prove the faults a smoke check must catch behave as named.
  - `test_behaviour_*` pin Loki behaviours the contract implies but does not record.

If an exchange fails here, the stand-in no longer answers like Loki: fix the stand-in, not the test.
"""
from __future__ import annotations

import gzip
import json
import re
import threading
import time
from pathlib import Path

import pytest
import requests
from lgtm_refstack.faults import Faults
from lgtm_refstack.loki import LokiEmulator, rfc3339
from lgtm_refstack.web import BackendServer

from lgtm_smoke.protocol.loki_push import (
    PushRequest,
    Stream,
    encode_protobuf,
    format_labels,
    parse_labels,
)

NS = 1_000_000_000
ENRICHED = ("service_name", "detected_level")  # labels Loki adds on ingest
# stats fields that measure time (and rates derived from it): they vary per run
TIMING_KEYS = {"execTime", "queueTime", "bytesProcessedPerSecond", "linesProcessedPerSecond", "chunkRefsFetchTime"}
QUERY_EXCHANGES = {"query_range_found", "query_range_other_tenant_empty", "query_instant_metric", "labels",
                   "label_values"}


# The same file the `contracts` fixture of tests/conftest.py reads; needed at collection time for ids.
CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "loki.json"
EXCHANGE_NAMES = ([x["name"] for x in json.loads(CONTRACT.read_text())] if CONTRACT.is_file()
                  else ["contract-file-missing"])


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _server():
    server = BackendServer(LokiEmulator(Faults())).start()
    yield server
    # stop() waits out serve_forever's 0.5 s poll; the daemon thread lets the run go on meanwhile
    threading.Thread(target=server.stop, daemon=True).start()


def fresh(server: BackendServer, **kwargs) -> BackendServer:
    """Serve a brand-new emulator (empty store, no faults, no requests seen) on the running server."""
    server.backend = LokiEmulator(Faults(), **kwargs)
    return server


@pytest.fixture
def loki(_server) -> BackendServer:
    return fresh(_server)


def by_name(exchanges: list[dict]) -> dict[str, dict]:
    return {x["name"]: x for x in exchanges}


def recorded_push_ts(exchanges: list[dict]) -> int:
    body = json.loads(by_name(exchanges)["push_json_ok"]["request"]["body"])
    return int(body["streams"][0]["values"][0][0])


def make_delta(exchanges: list[dict]) -> int:
    """Whole milliseconds from the recording's push time to now (sample times are printed in ms)."""
    return (time.time_ns() - recorded_push_ts(exchanges)) // 1_000_000 * 1_000_000


def shift_ns(value: str, delta: int) -> str:
    return str(int(value) + delta) if re.fullmatch(r"\d{11,}", value) else value


def shift_body(body: str | None, delta: int) -> str | None:
    """Shift the ns timestamps inside a recorded JSON push body."""
    if not body:
        return body
    try:
        doc = json.loads(body)
    except ValueError:
        return body  # malformed on purpose: send as recorded
    for stream in doc.get("streams", []):
        for v in stream.get("values", []):
            v[0] = shift_ns(v[0], delta)
    return json.dumps(doc)


def protobuf_body(description: str, labels: dict[str, str], line: str, ts: int) -> bytes:
    """Rebuild a binary push body from the contract's description of it (its labels when it names them)."""
    named = re.search(r"\{.*\}", description)
    labels = parse_labels(named.group(0)) if named else labels
    if description.startswith("snappy"):
        return encode_protobuf([Stream(labels, [(ts, line)])])
    assert description.startswith("uncompressed"), description
    req = PushRequest()
    entry = req.streams.add(labels=format_labels(labels)).entries.add(line=line)
    entry.timestamp.seconds, entry.timestamp.nanos = divmod(ts, NS)
    return req.SerializeToString()


def proto_line(exchanges: list[dict]) -> tuple[dict[str, str], str]:
    """The protobuf-pushed stream and line, as `query_range_found` shows them."""
    for s in by_name(exchanges)["query_range_found"]["response"]["json"]["data"]["result"]:
        if s["stream"].get("check") == "loki-proto":
            return {k: v for k, v in s["stream"].items() if k not in ENRICHED}, s["values"][0][1]
    raise AssertionError("query_range_found shows no protobuf-pushed stream")


def send(url: str, exchanges: list[dict], ex: dict, delta: int) -> requests.Response:
    rq = ex["request"]
    params = {k: shift_ns(v, delta) for k, v in rq["params"].items()}
    body = rq["body"]
    if rq["headers"].get("Content-Type") == "application/x-protobuf":
        labels, line = proto_line(exchanges)
        body = protobuf_body(body, labels, line, recorded_push_ts(exchanges) + delta)
    else:
        body = shift_body(body, delta)
    return requests.request(rq["method"], url + rq["path"], params=params, headers=rq["headers"],
                            data=body, timeout=5)


def seed(url: str, exchanges: list[dict], delta: int) -> None:
    """What the query exchanges were recorded after: the JSON and the protobuf push of smoke-tenant."""
    named = by_name(exchanges)
    for name in ("push_json_ok", "push_protobuf_snappy_ok"):
        r = send(url, exchanges, named[name], delta)
        assert r.status_code == 204, (name, r.status_code, r.text)


def shift_expected_json(doc, delta: int):
    """The recorded answer as it must look for data shifted by `delta`."""
    doc = json.loads(json.dumps(doc))
    data = doc.get("data")
    if isinstance(data, dict):
        for item in data.get("result", []):
            for v in item.get("values", []):
                v[0] = shift_ns(v[0], delta) if isinstance(v[0], str) else v[0]
            if "value" in item:
                item["value"][0] = (round(item["value"][0] * 1000) + delta // 1_000_000) / 1000
    return doc


def assert_json_like(actual, expected, path: str = "$") -> None:
    """Same structure and values; under `stats`, timing fields need only be numbers."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), (
            f"{path}: keys differ: missing {sorted(set(expected) - set(actual))}, "
            f"extra {sorted(set(actual) - set(expected))}")
        for k in expected:
            assert_json_like(actual[k], expected[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{path}: {len(actual)} items, expected {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=False)):
            assert_json_like(a, e, f"{path}[{i}]")
    elif ".stats." in path and path.rsplit(".", 1)[-1] in TIMING_KEYS:
        assert type(actual) in (int, float) and type(actual) is not bool, f"{path}: {actual!r} is not a number"
        if isinstance(expected, float):
            assert isinstance(actual, float), f"{path}: expected a float like {expected!r}, got {actual!r}"
    else:
        assert type(actual) is type(expected) and actual == expected, f"{path}: {actual!r} != {expected!r}"


def assert_too_old_text(actual: str, expected: str, entry_ts: int) -> None:
    """Exact format; the entry time shifted, the cut-off (now - 7d) near now."""
    stamp = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
    pattern = re.escape(re.sub(stamp, "\0", expected)).replace("\0", f"({stamp})")
    assert re.fullmatch(pattern, re.sub(stamp, "\0", expected).replace("\0", "2000-01-01T00:00:00Z")), "self-check"
    m = re.fullmatch(pattern, actual)
    assert m, f"{actual!r} does not have the shape of {expected!r}"
    assert m.group(1) == rfc3339(entry_ts)
    cutoff = time.time() - 7 * 86400
    got = time.mktime(time.strptime(m.group(2), "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(got - cutoff) < 5, f"oldest acceptable {m.group(2)} is not now - 7d"


# --- the replay -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXCHANGE_NAMES, ids=EXCHANGE_NAMES)
def test_exchange(name: str, contracts, loki):
    """Replaying the recorded request gives Loki's recorded answer (times shifted to now)."""
    exchanges = contracts["loki"]
    ex = by_name(exchanges)[name]
    delta = make_delta(exchanges)
    if name in QUERY_EXCHANGES:
        seed(loki.url, exchanges, delta)
    r = send(loki.url, exchanges, ex, delta)
    want = ex["response"]

    assert r.status_code == want["status"], r.text
    assert r.headers.get("Content-Type", "") == want["content_type"]
    if "json" in want:
        assert_json_like(r.json(), shift_expected_json(want["json"], delta))
    elif name == "push_too_old":
        entry_ts = int(json.loads(ex["request"]["body"])["streams"][0]["values"][0][0]) + delta
        assert_too_old_text(r.text, want["text"], entry_ts)
    else:
        assert r.text == want.get("text", ""), f"{r.text!r} != {want.get('text')!r}"


def test_every_exchange_is_replayed(contracts):
    """The parametrisation covers the contract file the fixture loads (no exchange silently skipped)."""
    assert [x["name"] for x in contracts["loki"]] == EXCHANGE_NAMES
    assert len(EXCHANGE_NAMES) >= 15


# --- faults ---------------------------------------------------------------------------------------


def _push(url, labels, line, tenant=None, ts=None):
    headers = {"Content-Type": "application/json"}
    if tenant:
        headers["X-Scope-OrgID"] = tenant
    body = {"streams": [{"stream": labels, "values": [[str(ts or time.time_ns()), line]]}]}
    return requests.post(url + "/loki/api/v1/push", data=json.dumps(body), headers=headers, timeout=5)


def _lines(url, query, tenant=None):
    headers = {"X-Scope-OrgID": tenant} if tenant else {}
    r = requests.get(url + "/loki/api/v1/query_range", params={"query": query, "limit": "100"},
                     headers=headers, timeout=5)
    assert r.status_code == 200, r.text
    return [v[1] for s in r.json()["data"]["result"] for v in s["values"]]


def test_fault_no_auth_lands_in_tenant_fake(loki):
    """loki-no-auth: a push without X-Scope-OrgID is accepted (204) and stored under tenant `fake`."""
    loki.backend.faults.set(["loki-no-auth"])
    r = _push(loki.url, {"job": "noauth"}, "hello no auth")
    assert r.status_code == 204, r.text
    assert _lines(loki.url, '{job="noauth"}', tenant="fake") == ["hello no auth"]
    assert _lines(loki.url, '{job="noauth"}') == ["hello no auth"]  # no header reads `fake` too
    assert _lines(loki.url, '{job="noauth"}', tenant="smoke-tenant") == []


def test_fault_tenant_leak(loki):
    """tenant-leak: another tenant's query sees the data; without the fault it does not."""
    assert _push(loki.url, {"job": "leak"}, "secret", tenant="tenant-a").status_code == 204
    assert _lines(loki.url, '{job="leak"}', tenant="tenant-b") == []
    loki.backend.faults.set(["tenant-leak"])
    assert _lines(loki.url, '{job="leak"}', tenant="tenant-b") == ["secret"]


def test_fault_slow_ingest(loki):
    """slow-ingest=0.3: a pushed line is not queryable at once, and is after 0.3 s."""
    loki.backend.faults.set(["slow-ingest=0.3"])
    assert _push(loki.url, {"job": "slow"}, "late line", tenant="t").status_code == 204
    assert _lines(loki.url, '{job="slow"}', tenant="t") == []
    time.sleep(0.35)
    assert _lines(loki.url, '{job="slow"}', tenant="t") == ["late line"]


def test_fault_flaky_5xx(loki):
    """flaky-5xx=2: the first two requests answer 503, the third is served normally."""
    loki.backend.faults.set(["flaky-5xx=2"])
    codes = [requests.get(loki.url + "/ready", timeout=5).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


# --- behaviours implied by the contract and backend-api.md §3 --------------------------------------


def test_behaviour_too_new_and_partial_accept(loki):
    """An entry > 10 m ahead is rejected (400, Loki's text) while the valid entry of the push is kept."""
    now = time.time_ns()
    future = now + 3600 * NS
    body = {"streams": [{"stream": {"job": "mix"}, "values": [[str(now), "ok line"], [str(future), "future"]]}]}
    r = requests.post(loki.url + "/loki/api/v1/push", data=json.dumps(body),
                      headers={"Content-Type": "application/json", "X-Scope-OrgID": "t"}, timeout=5)
    assert r.status_code == 400
    assert r.text == (f"entry for stream '{{job=\"mix\", service_name=\"mix\"}}' has timestamp too new: "
                      f"{rfc3339(future)}\n")
    assert _lines(loki.url, '{job="mix"}', tenant="t") == ["ok line"]


def test_behaviour_enrichment(loki):
    """service_name falls back to unknown_service; detected_level comes from the line; /labels omits it."""
    assert _push(loki.url, {"env": "x"}, '{"msg": "boom", "level": "ERROR"}', tenant="t").status_code == 204
    r = requests.get(loki.url + "/loki/api/v1/query_range", params={"query": '{env="x"}'},
                     headers={"X-Scope-OrgID": "t"}, timeout=5)
    assert r.json()["data"]["result"][0]["stream"] == {"env": "x", "service_name": "unknown_service",
                                                       "detected_level": "error"}
    r = requests.get(loki.url + "/loki/api/v1/labels", headers={"X-Scope-OrgID": "t"}, timeout=5)
    assert r.json() == {"status": "success", "data": ["env", "service_name"]}
    r = requests.get(loki.url + "/loki/api/v1/labels", headers={"X-Scope-OrgID": "empty"}, timeout=5)
    assert r.json() == {"status": "success"}  # `data` omitted when there are no labels


def test_behaviour_content_encoding(loki):
    """gzip bodies are decoded; an unknown Content-Encoding is a 400 with Loki's text."""
    body = json.dumps({"streams": [{"stream": {"job": "gz"}, "values": [[str(time.time_ns()), "zipped"]]}]})
    headers = {"Content-Type": "application/json", "X-Scope-OrgID": "t"}
    r = requests.post(loki.url + "/loki/api/v1/push", data=gzip.compress(body.encode()),
                      headers={**headers, "Content-Encoding": "gzip"}, timeout=5)
    assert r.status_code == 204, r.text
    assert _lines(loki.url, '{job="gz"}', tenant="t") == ["zipped"]
    r = requests.post(loki.url + "/loki/api/v1/push", data=body, headers={**headers, "Content-Encoding": "br"},
                      timeout=5)
    assert (r.status_code, r.text) == (400, 'Content-Encoding "br" not supported\n')


def test_behaviour_query_errors(loki):
    """Bad parameters and unsupported LogQL are 400 text/plain, never a silent success."""
    h = {"X-Scope-OrgID": "t"}
    cases = [
        ("/loki/api/v1/query", {"query": '{job="x"}'},
         "log queries are not supported as an instant query type, please change your query to a range query type"),
        ("/loki/api/v1/query_range", {"query": '{job="x"}', "limit": "0"}, "limit must be a positive value"),
        ("/loki/api/v1/query_range", {"query": '{job="x"}', "direction": "sideways"}, "invalid direction 'sideways'"),
        ("/loki/api/v1/query_range", {"query": '{job="x"}', "start": "2000", "end": "1000"},
         "end timestamp must not be before or equal to start time"),
        ("/loki/api/v1/query_range", {"query": '{job="x"} | json'},
         'reference stack: unsupported LogQL: pipeline stage \'| json\' in {job="x"} | json'),
    ]
    for path, params, text in cases:
        r = requests.get(loki.url + path, params=params, headers=h, timeout=5)
        assert (r.status_code, r.headers["Content-Type"], r.text) == (400, "text/plain; charset=utf-8", text)


def test_behaviour_time_formats_and_direction(loki):
    """start/end accept RFC3339 and float seconds; forward returns oldest first, limit caps entries;
    streams the selector does not match stay out."""
    base = (time.time_ns() // NS - 60) * NS
    for i in range(3):
        assert _push(loki.url, {"job": "order"}, f"line {i}", tenant="t", ts=base + i * NS).status_code == 204
    assert _push(loki.url, {"job": "order-other"}, "not me", tenant="t", ts=base).status_code == 204
    params = {"query": '{job="order"}', "start": rfc3339(base - NS), "end": f"{base / NS + 10:.3f}",
              "direction": "forward", "limit": "2"}
    r = requests.get(loki.url + "/loki/api/v1/query_range", params=params, headers={"X-Scope-OrgID": "t"}, timeout=5)
    assert len(r.json()["data"]["result"]) == 1
    assert [v[1] for v in r.json()["data"]["result"][0]["values"]] == ["line 0", "line 1"]
    params["direction"] = "backward"
    r = requests.get(loki.url + "/loki/api/v1/query_range", params=params, headers={"X-Scope-OrgID": "t"}, timeout=5)
    assert [v[1] for v in r.json()["data"]["result"][0]["values"]] == ["line 2", "line 1"]


def test_behaviour_storage_is_bounded(_server):
    """The store keeps at most max_entries; the oldest pushed entries are dropped first."""
    server = fresh(_server, max_entries=3)
    now = time.time_ns()
    for i in range(5):
        assert _push(server.url, {"job": "cap"}, f"n{i}", tenant="t", ts=now + i).status_code == 204
    assert sorted(_lines(server.url, '{job="cap"}', tenant="t")) == ["n2", "n3", "n4"]
