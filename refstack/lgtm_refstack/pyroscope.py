"""Pyroscope v1.13.5 stand-in (multitenancy on): real pprof decoding, per-tenant storage,
and the query answers Grafana and the smoke suite read.

Routes and shapes from upstream (see ../shared/reference/backend-api.md §1):
  ingest   POST /ingest, /pyroscope/ingest  (format=pprof raw body, gzip or plain; multipart
           `profile`; otherwise "groups" = collapsed `a;b;c 10` lines). 200 empty body.
  connect  POST /push.v1.PusherService/Push (application/proto or application/json,
           Content-Encoding gzip allowed). 200 empty message.
  query    GET /pyroscope/render (flamebearer JSON), GET /pyroscope/label-values,
           POST /querier.v1.QuerierService/{ProfileTypes,LabelValues,LabelNames,
           SelectMergeStacktraces} (protojson; int64 as strings).
  errors   JSON {"code": <connect code>, "message": ...}: 401 unauthenticated "no org id",
           400 invalid_argument (Connect validation, bad queries), 422 unknown (bad ingest body).

Faults: `pyroscope-anonymous` = multitenancy off: every request, with or without
X-Scope-OrgID, is tenant `anonymous` (reads too). Shared ones come from the base class.
[D] marks choices read from code, not recorded against a running Pyroscope.
"""
from __future__ import annotations

import email.parser
import email.policy
import gzip
import json
import re
import time
from dataclasses import dataclass

from google.protobuf import json_format
from werkzeug.exceptions import HTTPException

from lgtm_smoke.protocol import pprof

from .web import JSON, Backend, Request, Response, answer, json_response, plain, route

ANONYMOUS_FAULT = "pyroscope-anonymous"
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.]*$")
# pprof sample type -> Pyroscope's __name__ for legacy ingest (og/convert/pprof/profile.go) [D]
SAMPLE_TYPE_NAME = {"cpu": "process_cpu", "samples": "process_cpu", "wall": "wall", "alloc_objects": "memory",
                    "alloc_space": "memory", "inuse_objects": "memory", "inuse_space": "memory",
                    "contentions": "mutex", "delay": "mutex", "goroutine": "goroutines", "goroutines": "goroutines"}
# groups/tree names: app.<suffix> -> profile type (ingest_adapter.go) [D]
GROUP_SUFFIX = {"cpu": ("process_cpu", "cpu", "nanoseconds", "cpu", "nanoseconds"),
                "wall": ("wall", "wall", "nanoseconds", "wall", "nanoseconds"),
                "alloc_objects": ("memory", "alloc_objects", "count", "space", "bytes"),
                "alloc_space": ("memory", "alloc_space", "bytes", "space", "bytes"),
                "inuse_objects": ("memory", "inuse_objects", "count", "space", "bytes"),
                "inuse_space": ("memory", "inuse_space", "bytes", "space", "bytes")}
INGEST_WINDOW = (3600 * 10**9, 600 * 10**9)  # profile time must lie in [now-1h, now+10m]
FORMATS = {"PROFILE_FORMAT_UNSPECIFIED": 0, "PROFILE_FORMAT_FLAMEGRAPH": 1, "PROFILE_FORMAT_TREE": 2}


def error(status: int, code: str, message: str) -> HTTPException:
    return answer(json_response({"code": code, "message": message}, status))


# --- time and selectors ----------------------------------------------------------------------------
def parse_attime(value: str | None, default_ms: int) -> int:
    """pkg/og/util/attime: digits by length (10 s, 13 ms, 16 µs, 19 ns, 8 YYYYMMDD), now, now-1h. -> ms."""
    if value is None or value == "":
        return default_ms
    v = value.strip()
    if v.isdigit():
        n = int(v)
        scale = {10: 1000, 13: 1, 16: 1e-3, 19: 1e-6}.get(len(v))
        if scale is not None:
            return int(n * scale)
        if len(v) == 8:
            return int(time.mktime(time.strptime(v, "%Y%m%d")) * 1000)
        return n * 1000
    m = re.fullmatch(r"now(?:-(\d+)([smhdw]))?", v)
    if m:
        now = int(time.time() * 1000)
        if m.group(1):
            now -= int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)] * 1000
        return now
    return default_ms


_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_.]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


def parse_selector(text: str) -> list[tuple[str, str, str]]:
    """`{k="v", k2!="w", k3=~"re"}` -> [(name, op, value)]; ValueError on anything else."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"parse error: unexpected input {text[:20]!r}")
    body, out, pos = text[1:-1], [], 0
    while pos < len(body):
        m = _MATCHER.match(body, pos)
        if not m:
            raise ValueError(f"parse error at char {pos + 2}: unexpected {body[pos:pos + 10]!r}")
        out.append((m.group(1), m.group(2), m.group(3).replace('\\"', '"')))
        pos = m.end()
        if pos < len(body):
            if body[pos] != ",":
                raise ValueError(f"parse error at char {pos + 2}: expected ','")
            pos += 1
    return out


def matches(labels: dict[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    for name, op, value in matchers:
        have = labels.get(name, "")
        ok = {"=": have == value, "!=": have != value}.get(op)
        if ok is None:
            ok = re.fullmatch(value, have) is not None
            ok = ok if op == "=~" else not ok
        if not ok:
            return False
    return True


def parse_app_name(name: str) -> tuple[str, dict[str, str]]:
    """Legacy ingest `name`: `app.cpu{k=v,k2=v2}`."""
    m = re.fullmatch(r"([^{}]+)(?:\{(.*)\})?", name or "")
    if not m:
        raise ValueError(f"invalid app name {name!r}")
    tags: dict[str, str] = {}
    for part in filter(None, (m.group(2) or "").split(",")):
        k, sep, v = part.partition("=")
        if not sep or not LABEL_NAME.fullmatch(k.strip()):
            raise ValueError(f"invalid tag {part!r}")
        tags[k.strip()] = v.strip()
    return m.group(1).strip(), tags


@dataclass
class Record:
    tenant: str
    labels: dict[str, str]  # includes __name__, service_name
    type_id: str
    time_ms: int
    stacks: list[pprof.Stack]
    visible_at: float


class PyroscopeEmulator(Backend):
    name = "pyroscope"
    no_auth_tenant = "anonymous"
    admin_routes = "pyroscope"  # /config-like status pages, rings, pprof, ... as Pyroscope registers them

    def __init__(self, faults=None):
        super().__init__(faults)
        self.records: list[Record] = []

    # --- tenancy ----------------------------------------------------------------------------------
    def tenant(self, req: Request) -> str:
        if ANONYMOUS_FAULT in self.faults:  # multitenancy off: the header is ignored entirely
            return "anonymous"
        return super().tenant(req)

    def not_found(self, req: Request) -> Response:
        if req.path.startswith("/api/"):  # the grpc-gateway under /api/ answers in its own JSON (admin-routes.json)
            return Response('{"code":5,"message":"Not Found","details":[]}', 404, content_type="application/json")
        return super().not_found(req)

    def no_org_id_response(self, req: Request) -> Response:
        return json_response({"code": "unauthenticated", "message": "no org id"}, 401)

    # --- health -----------------------------------------------------------------------------------
    @route("/ready", methods=("GET",))
    def ready(self, req: Request) -> Response:
        return plain(200, "ready", "text/plain")

    # --- ingest -----------------------------------------------------------------------------------
    def _store(self, tenant: str, labels: dict[str, str], profile, default_ms: int) -> None:
        st = profile.string_table
        time_ms = profile.time_nanos // 10**6 if profile.time_nanos else default_ms
        for i, (stype, sunit) in enumerate(pprof.sample_types(profile)):
            name = labels.get("__name__") or SAMPLE_TYPE_NAME.get(stype, stype)
            type_id = f"{name}:{stype}:{sunit}:{st[profile.period_type.type]}:{st[profile.period_type.unit]}"
            stacks = [s for s in pprof.stacks(profile, i) if s.value]
            rec = Record(tenant, {**labels, "__name__": name}, type_id, time_ms, stacks, self.visible_at())
            with self.lock:
                self.records.append(rec)

    @route("/ingest", methods=("POST",))
    def ingest(self, req: Request) -> Response:
        tenant = self.tenant(req)
        try:
            app, tags = parse_app_name(req.args.get("name", ""))
        except ValueError as e:
            raise error(400, "invalid_argument", f"name: {e}") from None
        now_ms = int(time.time() * 1000)
        from_ms = parse_attime(req.args.get("from"), now_ms)
        labels = {**tags, "pyroscope_spy": req.args.get("spyName", "unknown")}
        fmt = req.args.get("format", "")
        if fmt == "pprof" or "multipart/form-data" in (req.headers.get("content-type") or ""):
            body = req.get_data() if fmt == "pprof" else self._multipart_profile(req)
            try:
                profile = pprof.decode(body)
            except ValueError as e:
                raise error(422, "unknown", f"failed to ingest profile: {e}") from None
            labels.setdefault("service_name", app)
            labels["__delta__"] = "false"
            self._store(tenant, labels, profile, from_ms)
            return Response(b"", 200)
        if fmt in ("", "groups", "folded", "lines"):
            return self._ingest_groups(req, tenant, app, labels, from_ms)
        raise error(422, "unknown", f"format {fmt!r} is not supported by this stand-in")

    @route("/pyroscope/ingest", methods=("POST",))
    def ingest_prefixed(self, req: Request) -> Response:
        return self.ingest(req)

    def _multipart_profile(self, req: Request) -> bytes:
        head = f"Content-Type: {req.headers.get('content-type')}\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + req.get_data())
        for part in msg.iter_parts() if msg.is_multipart() else []:
            if part.get_param("name", header="content-disposition") == "profile":
                return part.get_payload(decode=True) or b""
        raise error(422, "unknown", "profile field is required")

    def _ingest_groups(self, req: Request, tenant: str, app: str, labels: dict, from_ms: int) -> Response:
        base, _, suffix = app.rpartition(".")
        if suffix not in GROUP_SUFFIX:
            base, suffix = app, "cpu"
        name, stype, sunit, ptype, punit = GROUP_SUFFIX[suffix]
        rate = int(req.args.get("sampleRate", "100") or 100)
        scale = 10**9 // rate if sunit == "nanoseconds" else 1  # samples -> nanoseconds [D]
        stacks = []
        for line in req.get_data().decode("utf-8", errors="replace").splitlines():
            line = line.strip()
            if not line:
                continue
            frames, _, count = line.rpartition(" ")
            if not frames or not count.isdigit():
                raise error(422, "unknown", f"failed to ingest profile: malformed line {line[:60]!r}")
            stacks.append(pprof.Stack(tuple(frames.split(";")), int(count) * scale))
        lbl = {**labels, "service_name": labels.get("service_name", base), "__name__": name}
        with self.lock:
            self.records.append(Record(tenant, lbl, f"{name}:{stype}:{sunit}:{ptype}:{punit}", from_ms, stacks,
                                       self.visible_at()))
        return Response(b"", 200)

    @route("/push.v1.PusherService/Push", methods=("POST",))
    def push(self, req: Request) -> Response:
        tenant = self.tenant(req)
        msg = self._connect_decode(req, pprof.PushRequest)
        now = time.time_ns()
        accepted = []
        for series in msg.series:
            labels = {lp.name: lp.value for lp in series.labels}
            labels.setdefault("service_name", "unspecified")
            shown = "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
            if not METRIC_NAME.fullmatch(labels.get("__name__", "")):
                raise error(400, "invalid_argument", f"invalid labels '{shown}' with error: invalid metric name")
            if len(labels) > 30:
                raise error(400, "invalid_argument", f"profile series '{shown}' has {len(labels)} label names; limit 30")
            for sample in series.samples:
                try:
                    profile = pprof.decode(sample.raw_profile)
                except ValueError as e:
                    raise error(400, "invalid_argument", str(e)) from None
                if profile.time_nanos == 0:
                    profile.time_nanos = now
                if not now - INGEST_WINDOW[0] <= profile.time_nanos <= now + INGEST_WINDOW[1]:
                    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(profile.time_nanos / 1e9))
                    raise error(400, "invalid_argument", f"profile with labels '{shown}' is outside of ingestion "
                                f"window (profile timestamp: {ts}, the ingestion window starts at "
                                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now / 1e9 - 3600))} and ends "
                                f"at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now / 1e9 + 600))})")
                accepted.append((labels, profile))
        if not accepted:
            raise error(400, "invalid_argument", "no profiles received")
        for labels, profile in accepted:
            self._store(tenant, labels, profile, now // 10**6)
        return self._connect_reply(req, pprof.PushResponse())

    # --- Connect plumbing ---------------------------------------------------------------------------
    def _connect_decode(self, req: Request, cls):
        body = req.get_data()
        if (req.headers.get("content-encoding") or "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError) as e:
                raise error(400, "invalid_argument", f"decompress gzip: {e}") from None
        ct = req.mimetype
        msg = cls()
        try:
            if ct in ("application/proto", "application/protobuf"):
                msg.ParseFromString(body)
            elif ct == "application/json":
                json_format.Parse(body or b"{}", msg)
            else:
                raise error(415, "unknown", f"invalid content-type: {ct!r}; expecting \"application/proto\" or "
                            "\"application/json\"")
        except HTTPException:
            raise
        except Exception as e:
            raise error(400, "invalid_argument", f"unmarshal into {cls.DESCRIPTOR.full_name}: {str(e)[:200]}") from None
        return msg

    def _connect_reply(self, req: Request, msg) -> Response:
        if req.mimetype == "application/json":
            return Response(json_format.MessageToJson(msg, indent=None) or "{}", 200, content_type=JSON)
        return Response(msg.SerializeToString(), 200, content_type="application/proto")

    def _query_request(self, req: Request, name: str):
        """A querier request message from protojson or proto (Connect unary)."""
        cls = pprof.QUERIER[name]
        if req.mimetype == "application/json":
            try:
                data = json.loads(gzip.decompress(req.get_data()) if (req.headers.get("content-encoding") or "").lower() == "gzip"
                                  else (req.get_data() or b"{}"))
            except (ValueError, OSError) as e:
                raise error(400, "invalid_argument", f"unmarshal into querier.v1.{name}: {e}") from None
            if isinstance(data, dict) and isinstance(data.get("format"), str):  # enum by name
                data["format"] = FORMATS.get(data["format"], -1)
            msg = cls()
            try:
                json_format.ParseDict(data, msg)
            except (json_format.ParseError, TypeError, AttributeError) as e:
                raise error(400, "invalid_argument", f"unmarshal into querier.v1.{name}: {str(e)[:200]}") from None
            return msg
        return self._connect_decode(req, cls)

    def _query_reply(self, req: Request, msg) -> Response:
        if req.mimetype == "application/json":  # protojson: int64 as strings, empty fields omitted
            return json_response(json_format.MessageToDict(msg))
        return Response(msg.SerializeToString(), 200, content_type="application/proto")

    # --- query --------------------------------------------------------------------------------------
    def _select(self, tenant: str, type_id: str | None, matchers, start_ms: int, end_ms: int) -> list[Record]:
        see = self.tenant_filter(tenant)
        now = time.time()
        with self.lock:
            return [r for r in self.records if see(r.tenant) and r.visible_at <= now
                    and (type_id is None or r.type_id == type_id) and start_ms <= r.time_ms <= end_ms
                    and matches(r.labels, matchers)]

    @staticmethod
    def _split_query(query: str) -> tuple[str, list]:
        if not query:
            raise error(400, "invalid_argument", "'query' is required")
        type_id, brace, rest = query.partition("{")
        if not type_id or len(type_id.split(":")) != 5:
            raise error(400, "invalid_argument", "'query' must contain a profile-type selection")
        try:
            return type_id, parse_selector(brace + rest if brace else "{}")
        except ValueError as e:
            raise error(400, "invalid_argument", f"failed to parse 'query': {e}") from None

    @route("/pyroscope/render", methods=("GET",))
    def render(self, req: Request) -> Response:
        tenant = self.tenant(req)
        type_id, matchers = self._split_query(req.args.get("query", ""))
        now_ms = int(time.time() * 1000)
        start = parse_attime(req.args.get("from"), now_ms - 3600_000)
        end = parse_attime(req.args.get("until"), now_ms)
        recs = self._select(tenant, type_id, matchers, start, end)
        names, levels, total, max_self = pprof.flame_levels([s for r in recs for s in r.stacks])
        spy = recs[0].labels.get("pyroscope_spy", "") if recs else ""
        step = 10
        samples = [0] * max(1, (end - start) // (step * 1000) + 1)
        for r in recs:
            samples[min(len(samples) - 1, max(0, (r.time_ms - start) // (step * 1000)))] += sum(s.value for s in r.stacks)
        return json_response({
            "version": 1,
            "flamebearer": {"names": names, "levels": levels, "numTicks": total, "maxSelf": max_self},
            "metadata": {"format": "single", "spyName": spy, "sampleRate": 100, "units": "samples",
                         "name": type_id.split(":")[0]},
            "timeline": {"startTime": start // 1000, "samples": samples, "durationDelta": step, "watermarks": None},
            "groups": None, "heatmap": None,
        })

    @route("/pyroscope/label-values", methods=("GET",))
    def label_values_http(self, req: Request) -> Response:
        tenant = self.tenant(req)
        see = self.tenant_filter(tenant)
        with self.lock:  # upstream ignores `label` and always answers profile type ids (http.go:45-75)
            ids = sorted({r.type_id for r in self.records if see(r.tenant)})
        return json_response(ids)

    @route("/querier.v1.QuerierService/ProfileTypes", methods=("POST",))
    def profile_types(self, req: Request) -> Response:
        tenant = self.tenant(req)
        body = self._query_request(req, "ProfileTypesRequest")
        end = body.end or int(time.time() * 1000) + 60_000
        resp = pprof.QUERIER["ProfileTypesResponse"]()
        for tid in sorted({r.type_id for r in self._select(tenant, None, [], body.start, end)}):
            name, stype, sunit, ptype, punit = tid.split(":")
            resp.profile_types.add(ID=tid, name=name, sample_type=stype, sample_unit=sunit, period_type=ptype,
                                   period_unit=punit)
        return self._query_reply(req, resp)

    def _label_records(self, req: Request, name: str):
        tenant = self.tenant(req)
        body = self._query_request(req, name)
        now_ms = int(time.time() * 1000)
        start, end = body.start or now_ms - 3600_000, body.end or now_ms + 60_000
        recs = []
        for sel in list(body.matchers) or ["{}"]:
            try:
                recs += self._select(tenant, None, parse_selector(sel), start, end)
            except ValueError as e:
                raise error(400, "invalid_argument", f"failed to parse matchers: {e}") from None
        return body, recs

    @route("/querier.v1.QuerierService/LabelValues", methods=("POST",))
    def label_values(self, req: Request) -> Response:
        body, recs = self._label_records(req, "LabelValuesRequest")
        values = sorted({r.labels[body.name] for r in recs if body.name in r.labels})
        return self._query_reply(req, pprof.QUERIER["LabelValuesResponse"](names=values))

    @route("/querier.v1.QuerierService/LabelNames", methods=("POST",))
    def label_names(self, req: Request) -> Response:
        _, recs = self._label_records(req, "LabelNamesRequest")
        return self._query_reply(req, pprof.QUERIER["LabelNamesResponse"](names=sorted({k for r in recs for k in r.labels})))

    @route("/querier.v1.QuerierService/SelectMergeStacktraces", methods=("POST",))
    def select_merge_stacktraces(self, req: Request) -> Response:
        tenant = self.tenant(req)
        body = self._query_request(req, "SelectMergeStacktracesRequest")
        if len(body.profile_typeID.split(":")) != 5:
            raise error(400, "invalid_argument", f"invalid profile type id {body.profile_typeID!r}: expected "
                        "name:sampleType:sampleUnit:periodType:periodUnit")
        if body.format not in (0, 1):
            raise error(400, "invalid_argument", f"format {body.format} is not served by this stand-in (flame graph only)")
        try:
            matchers = parse_selector(body.label_selector or "{}")
        except ValueError as e:
            raise error(400, "invalid_argument", f"failed to parse label selector: {e}") from None
        if body.end < body.start:
            raise error(400, "invalid_argument", "end must be after start")
        recs = self._select(tenant, body.profile_typeID, matchers, body.start, body.end)
        names, levels, total, max_self = pprof.flame_levels([s for r in recs for s in r.stacks])
        resp = pprof.QUERIER["SelectMergeStacktracesResponse"]()
        resp.flamegraph.names.extend(names)
        for lv in levels:
            resp.flamegraph.levels.add(values=lv)
        resp.flamegraph.total, resp.flamegraph.max_self = total, max_self
        return self._query_reply(req, resp)
