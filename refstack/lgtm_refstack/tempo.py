"""Tempo 2.9 stand-in (multitenancy on) with two ports like the real one, sharing one store:

- `TempoOTLP` (target group `tempo-otlp`, the collector receiver on 4318): POST /v1/traces,
  OTLP protobuf or OTLP/JSON (gzip allowed). Success 200 ExportTraceServiceResponse; no
  tenant 503 google.rpc.Status{14, "no org id"}; undecodable 400 Status{3, ...}.
- `TempoAPI` (target group `tempo`, 3200): /ready, /api/echo, /api/traces/<id> (v1,
  `batches`, base64 ids; 404 empty body when absent or another tenant's), /api/v2/traces/<id>,
  /api/search (TraceQL subset + `tags`), /api/search/tags, /api/search/tag/<t>/values.
  It does NOT serve /v1/traces (404 `404 page not found`), and it does not strip a /tempo prefix.

Every text and status is the one in ../shared/contracts/tempo.json. Trace by id is visible at
once; search sees a trace only once the ingester has cut it into its head block, as a real
Tempo 2.9 with the shipped config does (SearchLag below).
"""
from __future__ import annotations

import gzip
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field

from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, TracesData

from lgtm_smoke.protocol import otlp

from .web import Backend, Request, Response, abort, json_response, plain, route

# When a trace becomes findable by TraceQL search on a real Tempo 2.9 run with the shipped
# infra/images/tempo/config.yaml. The ingester keeps a trace "live" (found by id at once, not by
# search) until a flush-check tick finds it idle for trace_idle_period; that tick cuts it into the
# head block, which search reads. The shipped config sets neither, so Tempo v2.9.5's defaults hold
# (modules/ingester/config.go:48 and :54): flush_check_period 10 s (set in code, no flag) and
# trace_idle_period 5 s. A trace is searchable at the first 10 s tick at least 5 s after its last
# span: 5 to 15 s, 10 s on average (issue 13 measured ~9.9 s on a real 2.9.5).
TRACE_IDLE_PERIOD = 5.0
FLUSH_CHECK_PERIOD = 10.0
# A fixed lag in seconds instead (the project's own tests keep it short); unset: Tempo's timing.
SEARCH_LAG_ENV = "LGTM_REFSTACK_TEMPO_SEARCH_LAG"


def default_search_lag() -> float | None:
    """The fixed lag LGTM_REFSTACK_TEMPO_SEARCH_LAG asks for, or None for real Tempo's timing."""
    raw = os.environ.get(SEARCH_LAG_ENV, "").strip()
    if not raw:
        return None
    try:
        lag = float(raw)
    except ValueError:
        raise ValueError(f"{SEARCH_LAG_ENV}={raw!r} is not a number of seconds, e.g. {SEARCH_LAG_ENV}=0.3") from None
    if lag < 0:
        raise ValueError(f"{SEARCH_LAG_ENV}={raw!r} must not be negative")
    return lag


class SearchLag:
    """`fixed` seconds after the last span, or (None) at the ingester's first flush-check tick
    at least trace_idle_period after it; the ticker starts with the ingester."""

    def __init__(self, fixed: float | None = None):
        self.fixed = fixed
        self.epoch = time.time()

    def searchable_at(self, last_arrival: float) -> float:
        if self.fixed is not None:
            return last_arrival + self.fixed
        ticks = math.ceil((last_arrival + TRACE_IDLE_PERIOD - self.epoch) / FLUSH_CHECK_PERIOD)
        return self.epoch + max(ticks, 1) * FLUSH_CHECK_PERIOD


@dataclass
class StoredTrace:
    tenant: str
    trace_id: bytes
    batches: list = field(default_factory=list)  # ResourceSpans
    last_arrival: float = 0.0
    visible_at: float = 0.0

    def spans(self):
        for rs in self.batches:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    yield rs, span


class TempoStore:
    def __init__(self):
        self.lock = threading.RLock()
        self.traces: dict[tuple[str, bytes], StoredTrace] = {}

    def add(self, tenant: str, request, visible_at: float) -> int:
        now = time.time()
        count = 0
        with self.lock:
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    by_trace: dict[bytes, list] = {}
                    for span in ss.spans:
                        by_trace.setdefault(bytes(span.trace_id), []).append(span)
                    for tid, spans in by_trace.items():
                        batch = ResourceSpans()
                        batch.resource.CopyFrom(rs.resource)
                        batch.schema_url = rs.schema_url
                        out = batch.scope_spans.add()
                        out.scope.CopyFrom(ss.scope)
                        out.schema_url = ss.schema_url
                        out.spans.extend(spans)
                        entry = self.traces.setdefault((tenant, tid), StoredTrace(tenant, tid))
                        entry.batches.append(batch)
                        entry.last_arrival = now
                        entry.visible_at = max(entry.visible_at, visible_at)
                        count += len(spans)
        return count

    def find(self, see, trace_id: bytes) -> list[StoredTrace]:
        now = time.time()
        with self.lock:
            return [t for (tenant, tid), t in self.traces.items() if tid == trace_id and see(tenant)
                    and t.visible_at <= now]

    def all(self, see) -> list[StoredTrace]:
        with self.lock:
            return [t for (tenant, _), t in self.traces.items() if see(tenant)]


def parse_trace_id(text: str) -> bytes:
    """Tempo's util.HexStringToTraceID, with its error texts."""
    for pos, ch in enumerate(text):
        if not (ch.isdigit() or "a" <= ch <= "f" or "A" <= ch <= "F"):
            abort(plain(400, f"trace IDs can only contain hex characters: invalid character "
                                               f"'{ch}' at position {pos + 1}"))
    if len(text) % 2:
        text = "0" + text
    raw = bytes.fromhex(text)
    if len(raw) > 16:
        abort(plain(400, "trace IDs can't be larger than 128 bits"))
    return raw.rjust(16, b"\x00")


class TempoOTLP(Backend):
    """The OTLP/HTTP receiver port."""

    name = "tempo"
    no_auth_tenant = "single-tenant"

    def __init__(self, faults=None, store: TempoStore | None = None):
        super().__init__(faults)
        self.store = store or TempoStore()

    def no_org_id_response(self, req: Request) -> Response:
        body, ct = otlp.status_body(14, "no org id", _otlp_ct(req))
        return Response(body, 503, content_type=ct)

    @route("/v1/traces", methods=("POST",))
    def traces(self, req: Request) -> Response:
        ct = req.mimetype
        if ct not in ("application/json", "application/x-protobuf"):
            return plain(415, "415 unsupported media type, supported: [application/json, "
                                      "application/x-protobuf]")
        body = req.get_data()
        if (req.headers.get("content-encoding") or "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError) as e:
                data, rct = otlp.status_body(3, f"gzip: {e}", ct)
                return Response(data, 400, content_type=rct)
        try:
            request = otlp.decode_request(body, ct)
        except ValueError as e:
            data, rct = otlp.status_body(3, str(e), ct)
            return Response(data, 400, content_type=rct)
        tenant = self.tenant(req)  # the receiver decodes first, then the tenant middleware answers
        self.store.add(tenant, request, self.visible_at())
        data, rct = otlp.success_response(ct)
        return Response(data, 200, content_type=rct)


def _otlp_ct(req: Request) -> str:
    return "application/json" if req.mimetype == "application/json" else "application/x-protobuf"


_COND = re.compile(r'\s*(resource|span)?\.([A-Za-z0-9_.\-]+)\s*(=|!=)\s*"((?:[^"\\]|\\.)*)"\s*')
_INTRINSIC = re.compile(r'\s*(name|status|kind)\s*(=|!=)\s*"?((?:[^"\\]|\\.)*?)"?\s*$')


def parse_traceql(q: str) -> list[tuple]:
    """The TraceQL subset the stand-in answers: `{ cond && cond ... }`, cond = `[resource|span].attr = "v"`
    (or `!=`), or `name = "x"`. Anything else is a 400 with Tempo's parse-error shape."""
    text = q.strip()

    def fail(col: int, what: str = "unexpected $end"):
        abort(plain(400, f"invalid TraceQL query: parse error at line 1, col {col}: syntax error: "
                                           f"{what}"))

    if not text.startswith("{"):
        fail(1, f"unexpected {text[:1] or '$end'}")
    if not text.endswith("}"):
        fail(len(q) + 1)
    inner = text[1:-1].strip()
    if not inner:
        return []
    conds = []
    for part in inner.split("&&"):
        m = _COND.fullmatch(part)
        if m:
            conds.append((m.group(1) or "any", m.group(2), m.group(3), m.group(4).replace('\\"', '"')))
            continue
        m = _INTRINSIC.fullmatch(part)
        if m and m.group(1) == "name":
            conds.append(("intrinsic", "name", m.group(2), m.group(3)))
            continue
        fail(q.find(part.strip()) + 1, f"unexpected {part.strip()[:20]}")
    return conds


def _holds(conds, rs, span) -> bool:
    res = otlp.attrs(otlp.to_dict(rs.resource).get("attributes"))
    sattrs = otlp.attrs(otlp.to_dict(span).get("attributes"))
    for scope, key, op, value in conds:
        if scope == "intrinsic":
            have = span.name
        elif scope == "resource":
            have = res.get(key)
        elif scope == "span":
            have = sattrs.get(key)
        else:
            have = sattrs.get(key, res.get(key))
        same = have is not None and str(have) == value
        if same != (op == "="):
            return False
    return True


class TempoAPI(Backend):
    """The query/API port (3200)."""

    name = "tempo"
    no_auth_tenant = "single-tenant"
    admin_routes = "tempo"  # /flush and /shutdown on any method, /metrics, /status/*, ... as Tempo 2.9 registers them

    def __init__(self, faults=None, store: TempoStore | None = None, search_delay: float | None = None):
        super().__init__(faults)
        self.store = store or TempoStore()
        self.lag = SearchLag(search_delay)

    @property
    def search_delay(self) -> float | None:
        """A fixed search lag in seconds; None: real Tempo's flush-tick timing."""
        return self.lag.fixed

    @search_delay.setter
    def search_delay(self, seconds: float | None) -> None:
        self.lag.fixed = seconds

    @route("/ready", methods=("GET",))
    def ready(self, req: Request) -> Response:
        return plain(200, "ready\n")

    @route("/api/echo", methods=("GET",))
    def echo(self, req: Request) -> Response:
        return plain(200, "echo\n")

    def _trace(self, req: Request, raw_id: str) -> list:
        tenant = self.tenant(req)
        trace_id = parse_trace_id(raw_id)
        found = self.store.find(self.tenant_filter(tenant), trace_id)
        return [b for t in found for b in t.batches]

    @route("/api/traces/<trace_id>", methods=("GET",))
    def trace_v1(self, req: Request, trace_id: str) -> Response:
        batches = self._trace(req, trace_id)
        if not batches:
            return Response(b"", 404)  # no content type, empty body: combiner/trace_by_id.go
        if "application/protobuf" in (req.headers.get("accept") or ""):
            return Response(TracesData(resource_spans=batches).SerializeToString(), 200, content_type="application/protobuf")
        return json_response({"batches": [otlp.to_dict(b) for b in batches]})

    @route("/api/v2/traces/<trace_id>", methods=("GET",))
    def trace_v2(self, req: Request, trace_id: str) -> Response:
        batches = self._trace(req, trace_id)
        size = TracesData(resource_spans=batches).ByteSize()
        trace = {"resourceSpans": [otlp.to_dict(b) for b in batches]} if batches else {}
        return json_response({"trace": trace, "metrics": {"inspectedBytes": str(size)} if size else {}})

    # --- search ------------------------------------------------------------------------------------
    def _searchable(self, tenant: str) -> list[StoredTrace]:
        cutoff = time.time()
        return [t for t in self.store.all(self.tenant_filter(tenant))
                if self.lag.searchable_at(max(t.last_arrival, t.visible_at)) <= cutoff]

    @route("/api/search", methods=("GET",))
    def search(self, req: Request) -> Response:
        tenant = self.tenant(req)
        q, tags = req.args.get("q"), req.args.get("tags")
        if q and tags:
            return plain(400, "invalid request: can't specify tags and q in the same query")
        if q:
            conds = parse_traceql(q)
        else:
            conds = []
            for pair in (tags or "").split():
                k, _, v = pair.partition("=")
                conds.append(("any", k, "=", v.strip('"')))
        try:
            start, end = int(req.args.get("start") or 0), int(req.args.get("end") or 0)
            limit = int(req.args.get("limit") or 20)
        except ValueError as e:
            return plain(400, f"invalid request: {e}")
        if start and end and start >= end:
            return plain(400, f"http parameter start must be before end. received start={start} end={end}")
        if limit <= 0:
            return plain(400, "invalid limit: must be a positive number")
        found = []
        for t in self._searchable(tenant):
            spans = list(t.spans())
            if not spans:
                continue
            t0 = min(s.start_time_unix_nano for _, s in spans)
            t1 = max(s.end_time_unix_nano for _, s in spans)
            if start and end and not (start * 10**9 <= t1 and t0 <= end * 10**9):
                continue
            matched = [(rs, s) for rs, s in spans if _holds(conds, rs, s)]
            if not matched:
                continue
            root = next(((rs, s) for rs, s in spans if not s.parent_span_id), spans[0])
            root_res = otlp.attrs(otlp.to_dict(root[0].resource).get("attributes"))
            span_set = {"spans": [{"spanID": s.span_id.hex(), "name": s.name,
                                   "startTimeUnixNano": str(s.start_time_unix_nano),
                                   "durationNanos": str(s.end_time_unix_nano - s.start_time_unix_nano)}
                                  for _, s in matched[:3]], "matched": len(matched)}
            found.append({"traceID": t.trace_id.hex().lstrip("0") or "0",
                          "rootServiceName": root_res.get("service.name", "<root span not yet received>"),
                          "rootTraceName": root[1].name, "startTimeUnixNano": str(t0),
                          "durationMs": max(0, (t1 - t0) // 10**6), "spanSet": span_set, "spanSets": [span_set]})
        found.sort(key=lambda x: int(x["startTimeUnixNano"]), reverse=True)
        return json_response({"traces": found[:limit], "metrics": {"inspectedTraces": len(found),
                                                                    "completedJobs": 1, "totalJobs": 1}})

    @route("/api/search/tags", methods=("GET",))
    def search_tags(self, req: Request) -> Response:
        tenant = self.tenant(req)
        names = set()
        for t in self._searchable(tenant):
            for rs, span in t.spans():
                names |= set(otlp.attrs(otlp.to_dict(rs.resource).get("attributes")))
                names |= set(otlp.attrs(otlp.to_dict(span).get("attributes")))
        return json_response({"tagNames": sorted(names), "metrics": {}})

    @route("/api/search/tag/<tag>/values", methods=("GET",))
    def tag_values(self, req: Request, tag: str) -> Response:
        tenant = self.tenant(req)
        values = set()
        for t in self._searchable(tenant):
            for rs, span in t.spans():
                merged = {**otlp.attrs(otlp.to_dict(rs.resource).get("attributes")),
                          **otlp.attrs(otlp.to_dict(span).get("attributes"))}
                if tag in merged:
                    values.add(str(merged[tag]))
        return json_response({"tagValues": sorted(values), "metrics": {}})


def tempo_backends(faults, search_delay: float | None = None) -> dict[str, Backend]:
    """Both ports over one store: target group -> Backend."""
    store = TempoStore()
    return {"tempo": TempoAPI(faults, store, search_delay), "tempo-otlp": TempoOTLP(faults, store)}
