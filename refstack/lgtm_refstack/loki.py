"""Loki stand-in: answers like Grafana Loki 3.6 (single binary, auth_enabled) as recorded in
../shared/contracts/loki.json.

What it reproduces:
  - push (`/loki/api/v1/push`, `/api/prom/push`): JSON or snappy protobuf, Content-Encoding
    gzip/deflate/snappy, 204 on success, Loki's error texts (snappy corrupt input, jsoniter-shaped JSON
    errors, `couldn't parse labels: ...`, too old (7d) / too new (10m), 422 for no streams, `{}` labels);
  - ingest enrichment: `service_name` (from Loki's default discover_service_name list, else
    `unknown_service`) as a stream label, `detected_level` as structured metadata (from level labels,
    then the line: JSON / logfmt level keys, then keywords), shown in query results but not in /labels;
  - queries: query_range / query (LogQL subset in logql.py), labels, label values, with Loki's
    parameter parsing, defaults, errors (text/plain, no trailing newline) and the `stats` block shape.

Storage is in memory, per tenant, bounded (oldest entries dropped first), and every entry carries the
time it becomes visible (`slow-ingest`).
"""
from __future__ import annotations

import gzip
import json
import math
import re
import time
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

from werkzeug.exceptions import HTTPException

from lgtm_smoke.protocol.loki_push import decode_protobuf

from . import logql
from .web import Backend, Request, Response, answer, json_response, plain, route

NS = 1_000_000_000
JSON_UTF8 = "application/json; charset=UTF-8"
QUERY_TEXT = "text/plain; charset=utf-8"
QUERY_METHODS = ("GET", "POST")  # HEAD comes with GET

MAX_ENTRIES = 100_000
REJECT_OLD_MAX_AGE_NS = 7 * 24 * 3600 * NS       # limits: reject_old_samples_max_age 1w
CREATION_GRACE_NS = 10 * 60 * NS                 # limits: creation_grace_period 10m
MAX_LINE_SIZE = 256 * 1024                       # limits: max_line_size 256KB
MAX_LABEL_NAMES = 15                             # limits: max_label_names_per_series
MAX_LABEL_NAME_LEN = 1024
MAX_LABEL_VALUE_LEN = 2048
DEFAULT_SINCE_NS = 3600 * NS
DEFAULT_LIMIT = 100

# limits.go: discover_service_name default, in priority order.
DISCOVER_SERVICE_NAME = ("service", "app", "application", "app_name", "name", "app_kubernetes_io_name",
                         "container", "container_name", "k8s_container_name", "component", "workload",
                         "job", "k8s_job_name")
SERVICE_NAME, UNKNOWN_SERVICE, LEVEL_LABEL = "service_name", "unknown_service", "detected_level"
LEVEL_FIELDS = ("level", "LEVEL", "Level", "log.level", "severity", "SEVERITY", "Severity", "SeverityText",
                "lvl", "LVL", "Lvl", "severity_text", "Severity_Text", "SEVERITY_TEXT")
_LEVEL_WORDS = {"trace": "trace", "trc": "trace", "debug": "debug", "dbg": "debug", "info": "info",
                "inf": "info", "information": "info", "warn": "warn", "wrn": "warn", "warning": "warn",
                "error": "error", "err": "error", "critical": "critical", "fatal": "fatal"}
_LEGACY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class PushError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


# --- small Go-compatible helpers ------------------------------------------------------------------


def go_quote(s: str) -> str:
    """strconv.Quote: printable unicode kept, the rest escaped."""
    out = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                        "\v": "\\v"}[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def labels_string(labels) -> str:
    """labels.Labels.String(): sorted, `{a="1", b="2"}`."""
    items = sorted(labels.items()) if isinstance(labels, dict) else sorted(labels)
    return "{" + ", ".join(f"{k}={go_quote(v)}" for k, v in items) + "}"


def rfc3339(ns: int) -> str:
    """time.Time.Format(time.RFC3339) in UTC: seconds precision, `Z`."""
    return datetime.fromtimestamp(ns // NS, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_float(v: float) -> str:
    """strconv.FormatFloat(v, 'f', -1, 64), as Prometheus-style sample values are printed."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    from decimal import Decimal

    return format(Decimal(repr(v)), "f")


def sample_time(ns: int):
    """A sample timestamp as Loki prints it: seconds with millisecond precision."""
    ms = ns // 1_000_000
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def parse_timestamp(value: str | None, default_ns: int) -> int:
    """loghttp.parseTimestamp: ns, float seconds, seconds (<= 10 digits) or RFC3339Nano."""
    if not value:
        return default_ns
    if "." in value:
        try:
            t = float(value)
            s = math.trunc(t)
            frac = round((t - s) * 1000) / 1000
            return int(s) * NS + int(frac * NS)
        except ValueError:
            pass
    if re.fullmatch(r"[+-]?\d+", value):
        n = int(value)
        return n * NS if len(value) <= 10 else n
    try:
        return _parse_rfc3339nano(value)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing {go_quote(value)}: invalid syntax') from None


def _parse_rfc3339nano(value: str) -> int:
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})", value)
    if not m:
        raise ValueError(value)
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    base = datetime.fromisoformat(m.group(1) + tz)
    frac = int((m.group(2) or "0").ljust(9, "0"))
    return int(base.timestamp()) * NS + frac


_PROM_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")


def parse_prom_duration(value: str) -> int:
    """model.ParseDuration (ns)."""
    m = _PROM_DURATION.fullmatch(value)
    if not value or not m or not any(m.groups()):
        raise ValueError(f'not a valid duration string: {go_quote(value)}')
    mult = [365 * 86400 * NS, 7 * 86400 * NS, 86400 * NS, 3600 * NS, 60 * NS, NS, 1_000_000]
    return sum(int(g) * k for g, k in zip(m.groups(), mult, strict=False) if g)


def parse_seconds_or_duration(value: str) -> int:
    try:
        return int(float(value) * NS)
    except ValueError:
        pass
    try:
        return parse_prom_duration(value)
    except ValueError:
        raise ValueError(f"cannot parse {go_quote(value)} to a valid duration") from None


# --- ingest enrichment -------------------------------------------------------------------------


def service_name_for(labels: dict[str, str]) -> str:
    for name in DISCOVER_SERVICE_NAME:
        if labels.get(name):
            return labels[name]
    return UNKNOWN_SERVICE


def _normalize_level(value: str) -> str:
    return _LEVEL_WORDS.get(value.lower(), value)


def _logfmt_pairs(line: str):
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        k0 = i
        while i < n and line[i] not in " =":
            i += 1
        key = line[k0:i]
        value = ""
        if i < n and line[i] == "=":
            i += 1
            if i < n and line[i] == '"':
                j = i + 1
                while j < n and line[j] != '"':
                    j += 2 if line[j] == "\\" else 1
                value = line[i + 1:j]
                i = j + 1
            else:
                v0 = i
                while i < n and line[i] != " ":
                    i += 1
                value = line[v0:i]
        if key:
            yield key, value


def _keyword_level(line: str) -> str:
    def has(*words):
        return any(w in line for w in words)

    if has("info:", "INFO:", "[info]", "[INFO]", "info", "INFO"):
        return "info"
    if has("err:", "ERR:", "[err]", "[ERR]", "[error]", "[ERROR]"):
        return "error"
    if has("warn:", "WARN:", "[warn]", "[WARN]", "[warning]", "[WARNING]", "warning", "WARNING"):
        return "warn"
    if has("critical:", "CRITICAL:", "[critical]", "[CRITICAL]"):
        return "critical"
    if has("debug:", "DEBUG:", "[debug]", "[DEBUG]", "debug", "DEBUG"):
        return "debug"
    return "unknown"


def _json_level(obj, depth: int = 0, max_depth: int = 2):
    if depth >= max_depth or not isinstance(obj, dict):
        return None
    for k, v in obj.items():
        if isinstance(v, str) and k in LEVEL_FIELDS:
            return v
        if isinstance(v, dict):
            found = _json_level(v, depth + 1, max_depth)
            if found is not None:
                return found
    return None


def detect_level(labels: dict[str, str], metadata: dict[str, str], line: str) -> str:
    """Loki's FieldDetector.extractLogLevel (discover_log_levels: true)."""
    for source in (labels, metadata):
        for name in LEVEL_FIELDS:
            if name in source:
                return _normalize_level(source[name])
    stripped = line.strip()
    value = None
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            value = _json_level(json.loads(stripped))
        except ValueError:
            value = None
    elif line and "=" in line:
        best = len(LEVEL_FIELDS)
        for key, v in _logfmt_pairs(line):
            for x, hint in enumerate(LEVEL_FIELDS):
                if x < best and key.lower() == hint.lower():
                    value, best = v, x
                    break
    else:
        return _keyword_level(line)
    if value is not None and value.lower() in _LEVEL_WORDS:
        return _LEVEL_WORDS[value.lower()]
    return _keyword_level(line)


# --- push decoding ------------------------------------------------------------------------------


def _jsoniter_error(body: bytes, head: int, operation: str, msg: str) -> str:
    """jsoniter's ReportError text: `op: msg, error found in #N byte of ...|x|..., bigger context ...|y|...`."""
    head = max(0, min(head, len(body)))
    peek_start = max(0, head - 10)
    parsing = body[peek_start:min(len(body), head + 10)]
    context = body[max(0, head - 50):min(len(body), head + 50)]
    dec = lambda b: b.decode("utf-8", "replace")
    return (f"{operation}: {msg}, error found in #{head - peek_start} byte of ...|{dec(parsing)}|..., "
            f"bigger context ...|{dec(context)}|...")


_STREAMS_OPEN = re.compile(rb'"streams"\s*:\s*\[')


def _json_push_error(body: bytes, err: json.JSONDecodeError) -> PushError:
    raw = err.doc.encode() if isinstance(err.doc, str) else body
    pos = len(err.doc[:err.pos].encode())
    stripped = raw.lstrip()
    if not stripped.startswith(b"{"):
        first = stripped[:1].decode("utf-8", "replace") or "\x00"
        head = len(raw) - len(stripped) + 1
        return PushError(400, _jsoniter_error(raw, head, "loghttp.PushRequest",
                                              f"ReadObjectCB: expect {{ or n, but found {first}") + "\n")
    m = _STREAMS_OPEN.search(raw)
    op = "loghttp.PushRequest.Streams: []loghttp.LogProtoStream" if m and m.end() <= pos else "loghttp.PushRequest"
    at_end = pos >= len(raw.rstrip())
    byte = 0 if at_end else raw[pos]
    head = len(raw) if at_end else pos + 1
    return PushError(400, _jsoniter_error(raw, head, op, f"Skip: do not know how to skip: {byte}") + "\n")


def _shape_error(what: str) -> PushError:
    return PushError(400, f"loghttp.PushRequest.Streams: []loghttp.LogProtoStream: {what}\n")


def decode_json_push(body: bytes) -> list[tuple[str, list[tuple[int, str, dict[str, str]]]]]:
    """[(label-set string, [(ts ns, line, structured metadata)])] from a JSON push body."""
    try:
        doc = json.loads(body.decode("utf-8", "replace"))
    except json.JSONDecodeError as e:
        raise _json_push_error(body, e) from None
    if not isinstance(doc, dict):
        raise _jsoniter_shape(body)
    streams = doc.get("streams") or []
    if not isinstance(streams, list):
        raise _shape_error("ReadArray: expect [ or n")
    out = []
    for s in streams:
        if not isinstance(s, dict):
            raise _shape_error("ReadObjectCB: expect { or n")
        stream = s.get("stream") or {}
        if not isinstance(stream, dict) or not all(isinstance(v, str) for v in stream.values()):
            raise _shape_error("stream: expect a map of strings")
        entries = []
        for v in s.get("values") or []:
            if not isinstance(v, list) or len(v) not in (2, 3) or not isinstance(v[1], str):
                raise _shape_error("values: expect [\"<ts>\", \"<line>\"(, {metadata})]")
            ts = v[0]
            try:
                ts_ns = int(ts) if isinstance(ts, (str, int)) and not isinstance(ts, bool) else None
            except ValueError:
                ts_ns = None
            if ts_ns is None:
                raise _shape_error(f"strconv.ParseInt: parsing {go_quote(str(ts))}: invalid syntax")
            sm = v[2] if len(v) == 3 else {}
            if not isinstance(sm, dict) or not all(isinstance(x, str) for x in sm.values()):
                raise _shape_error("structured metadata: expect a map of strings")
            entries.append((ts_ns, v[1], dict(sm)))
        # loghttp builds the stream's label string without quoting names (`{="x", job="..."}`)
        text = "{" + ", ".join(f"{k}={go_quote(val)}" for k, val in sorted(stream.items())) + "}"
        out.append((text, entries))
    return out


def _jsoniter_shape(body: bytes) -> PushError:
    return PushError(400, _jsoniter_error(body, 1, "loghttp.PushRequest", "ReadObjectCB: expect { or n, but found "
                                          + body.strip()[:1].decode("utf-8", "replace")) + "\n")


def decode_content_encoding(req: Request) -> bytes:
    enc = req.headers.get("content-encoding") or ""
    if enc in ("", "snappy"):  # snappy: a marker only; the body is snappy-framed protobuf anyway
        return req.get_data()
    if enc == "gzip":
        try:
            return gzip.decompress(req.get_data())
        except Exception:
            raise PushError(400, "gzip: invalid header\n") from None
    if enc == "deflate":
        try:
            return zlib.decompress(req.get_data(), -15)
        except Exception:
            raise PushError(400, "flate: corrupt input before offset 0\n") from None
    raise PushError(400, f"Content-Encoding {go_quote(enc)} not supported\n")


# --- storage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    tenant: str
    labels: tuple[tuple[str, str], ...]    # stream labels (with service_name), sorted
    metadata: tuple[tuple[str, str], ...]  # structured metadata (with detected_level), sorted
    ts: int
    line: str
    visible_at: float

    def series(self) -> dict[str, str]:
        """What a query shows: stream labels plus structured metadata."""
        return {**dict(self.metadata), **dict(self.labels)}

    @property
    def sm_bytes(self) -> int:  # chunk format stores each metadata name and value as a 4-byte symbol ref
        return 8 * len(self.metadata)


# --- stats --------------------------------------------------------------------------------------

_CACHE_KEYS = ("chunk", "index", "result", "statsResult", "volumeResult", "seriesResult", "labelResult",
               "instantMetricResult")


def _store(head_bytes=0, head_lines=0, post_filter=0, head_sm=0, refs_time=0) -> dict:
    return {
        "totalChunksRef": 0, "totalChunksDownloaded": 0, "chunksDownloadTime": 0,
        "queryReferencedStructuredMetadata": False, "queryUsedV2Engine": False,
        "chunk": {"headChunkBytes": head_bytes, "headChunkLines": head_lines, "decompressedBytes": 0,
                  "decompressedLines": 0, "compressedBytes": 0, "totalDuplicates": 0,
                  "postFilterLines": post_filter, "headChunkStructuredMetadataBytes": head_sm,
                  "decompressedStructuredMetadataBytes": 0},
        "chunkRefsFetchTime": refs_time, "congestionControlLatency": 0, "pipelineWrapperFilteredLines": 0,
        "dataobj": {k: 0 for k in (
            "prePredicateDecompressedRows", "prePredicateDecompressedBytes",
            "prePredicateDecompressedStructuredMetadataBytes", "postPredicateRows",
            "postPredicateDecompressedBytes", "postPredicateStructuredMetadataBytes", "postFilterRows",
            "pagesScanned", "pagesDownloaded", "pagesDownloadedBytes", "pageBatches", "totalRowsAvailable",
            "totalPageDownloadTime")},
    }


def build_stats(scanned: list[Entry], post_filter: int, returned: int, started: float) -> dict:
    """The `stats` block of a query response, in Loki 3.6's shape (data served from ingester memory)."""
    lines = len(scanned)
    sm = sum(e.sm_bytes for e in scanned)
    nbytes = sum(len(e.line.encode()) for e in scanned) + sm
    chunks = len({(e.tenant, e.labels) for e in scanned})
    exec_time = max(time.perf_counter() - started, 1e-6)
    return {
        "summary": {
            "bytesProcessedPerSecond": int(nbytes / exec_time), "linesProcessedPerSecond": int(lines / exec_time),
            "totalBytesProcessed": nbytes, "totalLinesProcessed": lines, "execTime": round(exec_time, 9),
            "queueTime": 0.0001, "subqueries": 0, "totalEntriesReturned": returned, "splits": 0, "shards": 1,
            "totalPostFilterLines": post_filter, "totalStructuredMetadataBytesProcessed": sm,
        },
        "querier": {"store": _store()},
        "ingester": {
            "totalReached": 1, "totalChunksMatched": chunks, "totalBatches": max(chunks, 1),
            "totalLinesSent": post_filter,
            "store": _store(nbytes, lines, post_filter, sm, refs_time=int(exec_time * NS) // 4),
        },
        "cache": {k: {"entriesFound": 0, "entriesRequested": 0, "entriesStored": 0, "bytesReceived": 0,
                      "bytesSent": 0, "requests": 0, "downloadTime": 0, "queryLengthServed": 0}
                  for k in _CACHE_KEYS},
        "index": {"totalChunks": 0, "postFilterChunks": 0, "shardsDuration": 0, "usedBloomFilters": False},
    }


# --- the backend --------------------------------------------------------------------------------


def _query_error(message: str, status: int = 400) -> HTTPException:
    # Loki's query error handler writes the message as is: no trailing newline.
    return answer(plain(status, message, QUERY_TEXT))


class LokiEmulator(Backend):
    name = "loki"
    no_auth_tenant = "fake"
    admin_routes = "loki"  # /flush, /config, rings, pprof, ... as Loki 3.6 registers them

    def __init__(self, faults=None, max_entries: int = MAX_ENTRIES):
        super().__init__(faults)
        self.entries: deque[Entry] = deque(maxlen=max_entries)

    # ---- readiness ----------------------------------------------------------------------------
    @route("/ready", methods=("GET",))
    def ready(self, req: Request) -> Response:
        return plain(200, "ready\n")

    # ---- push ---------------------------------------------------------------------------------
    @route("/loki/api/v1/push", "/api/prom/push", methods=("POST",))
    def push(self, req: Request) -> Response:
        tenant = self.tenant(req)
        try:
            stored = self._ingest(tenant, req)
        except PushError as e:
            return plain(e.status, e.text)
        return Response(status=204) if stored is None else stored

    def _ingest(self, tenant: str, req: Request):
        body = decode_content_encoding(req)
        if req.mimetype == "application/json":
            raw_streams = decode_json_push(body)
        else:
            try:
                raw_streams = decode_protobuf(body)
            except ValueError as e:
                raise PushError(400, f"{e}\n") from None
            except Exception:
                raise PushError(400, "proto: cannot parse invalid wire-format data\n") from None

        parsed = []
        for text, entries in raw_streams:  # push.go: every stream's labels parse, or the push is rejected
            try:
                pairs = logql.parse_metric(text)
            except logql.LabelSetError as e:
                raise PushError(400, f"couldn't parse labels: {e}\n") from None
            parsed.append((pairs, entries))
        if not parsed:
            raise PushError(422, "error at least one valid stream is required for ingestion\n")

        now_ns = time.time_ns()
        oldest, newest = now_ns - REJECT_OLD_MAX_AGE_NS, now_ns + CREATION_GRACE_NS
        visible_at = self.visible_at()
        errors: list[str] = []
        accepted: list[Entry] = []
        for pairs, entries in parsed:
            if not entries:
                continue  # a stream without entries is skipped silently
            labels = dict(pairs)
            if not labels:
                errors.append("error at least one label pair is required per stream")
                continue
            if SERVICE_NAME not in labels:
                labels[SERVICE_NAME] = service_name_for(labels)
            ls = labels_string(labels)
            problem = self._validate_labels(pairs, labels, ls)
            if problem:
                errors.append(problem)
                continue
            key = tuple(sorted(labels.items()))
            for ts, line, sm in entries:
                if ts < oldest:
                    errors.append(f"entry for stream '{ls}' has timestamp too old: {rfc3339(ts)}, "
                                  f"oldest acceptable timestamp is: {rfc3339(oldest)}")
                    continue
                if ts > newest:
                    errors.append(f"entry for stream '{ls}' has timestamp too new: {rfc3339(ts)}")
                    continue
                if len(line.encode()) > MAX_LINE_SIZE:
                    errors.append(f"Max entry size '{MAX_LINE_SIZE}' bytes exceeded for stream '{ls}' while "
                                  f"adding an entry with length '{len(line.encode())}' bytes")
                    continue
                metadata = dict(sm)
                if LEVEL_LABEL in metadata:
                    metadata[LEVEL_LABEL] = _normalize_level(metadata[LEVEL_LABEL])
                elif LEVEL_LABEL not in labels:
                    metadata[LEVEL_LABEL] = detect_level(labels, sm, line)
                accepted.append(Entry(tenant, key, tuple(sorted(metadata.items())), ts, line, visible_at))
        with self.lock:
            self.entries.extend(accepted)  # deque(maxlen): the oldest entries fall out first
        if errors:
            raise PushError(400, "\n".join(errors) + "\n")

    @staticmethod
    def _validate_labels(pairs, labels: dict[str, str], ls: str) -> str | None:
        seen = set()
        for name, _ in pairs:
            if name in seen:
                return f"stream '{ls}' has duplicate label name: '{name}'"
            seen.add(name)
        if len(labels) > MAX_LABEL_NAMES:
            return f"entry for stream '{ls}' has {len(labels)} label names; limit {MAX_LABEL_NAMES}"
        for name, value in labels.items():
            if not _LEGACY_NAME.fullmatch(name):
                return f"invalid label name: {go_quote(name)} in stream '{ls}'"
            if len(name) > MAX_LABEL_NAME_LEN:
                return f"stream '{ls}' has label name too long: '{name}'"
            if len(value) > MAX_LABEL_VALUE_LEN:
                return f"stream '{ls}' has label value too long: '{value}'"
        return None

    # ---- query helpers ------------------------------------------------------------------------
    @staticmethod
    def _params(req: Request) -> dict[str, str]:
        params = {k: vs[-1] for k, vs in req.args.lists() if vs}
        if req.method == "POST" and req.mimetype == "application/x-www-form-urlencoded" and req.get_data():
            for k, v in parse_qs(req.get_data().decode("utf-8", "replace"), keep_blank_values=True).items():
                params.setdefault(k, v[-1])
        return params

    def _visible(self, tenant: str) -> list[Entry]:
        allowed = self.tenant_filter(tenant)
        now = time.time()
        with self.lock:
            snapshot = list(self.entries)
        return [e for e in snapshot if allowed(e.tenant) and e.visible_at <= now]

    @staticmethod
    def _bounds(p: dict[str, str]) -> tuple[int, int]:
        now = time.time_ns()
        since = DEFAULT_SINCE_NS
        if p.get("since"):
            try:
                since = parse_prom_duration(p["since"])
            except ValueError as e:
                raise _query_error(f"could not parse 'since' parameter: {e}") from None
        try:
            end = parse_timestamp(p.get("end"), now)
        except ValueError as e:
            raise _query_error(f"could not parse 'end' parameter: {e}") from None
        try:
            start = parse_timestamp(p.get("start"), min(end, now) - since)
        except ValueError as e:
            raise _query_error(f"could not parse 'start' parameter: {e}") from None
        return start, end

    @staticmethod
    def _limit_direction(p: dict[str, str]) -> tuple[int, str]:
        raw = p.get("limit", "")
        if raw == "":
            limit = DEFAULT_LIMIT
        elif re.fullmatch(r"[+-]?\d+", raw):
            limit = int(raw)
        else:
            raise _query_error(f'strconv.Atoi: parsing {go_quote(raw)}: invalid syntax')
        if limit <= 0:
            raise _query_error("limit must be a positive value")
        direction = (p.get("direction") or "backward").upper()
        if direction not in ("FORWARD", "BACKWARD"):
            raise _query_error(f"invalid direction '{p.get('direction')}'")
        return limit, direction

    @staticmethod
    def _parse_query(p: dict[str, str]):
        try:
            return logql.parse(p.get("query", ""))
        except logql.LogQLError as e:
            raise _query_error(str(e)) from None

    @staticmethod
    def _success(data: dict) -> Response:
        return json_response({"status": "success", "data": data}, content_type=JSON_UTF8)

    def _streams(self, q: logql.LogQuery, visible: list[Entry], start: int, end: int, limit: int,
                 direction: str, started: float) -> Response:
        scanned = [e for e in visible if start <= e.ts < end and q.selects(e.series())]
        kept = [e for e in scanned if q.keep(e.line)]
        backward = direction == "BACKWARD"
        kept.sort(key=lambda e: (-e.ts if backward else e.ts, labels_string(e.series())))
        streams: dict[tuple, dict] = {}
        seen: set = set()
        returned = 0
        for e in kept:
            series = e.series()
            skey = tuple(sorted(series.items()))
            if (skey, e.ts, e.line) in seen:  # Loki drops exact duplicates within a stream
                continue
            if returned >= limit:
                break
            seen.add((skey, e.ts, e.line))
            streams.setdefault(skey, {"stream": dict(sorted(series.items())), "values": []})
            streams[skey]["values"].append([str(e.ts), e.line])
            returned += 1
        return self._success({"resultType": "streams", "result": list(streams.values()),
                              "stats": build_stats(scanned, len(kept), returned, started)})

    @staticmethod
    def _metric_inputs(expr, visible: list[Entry], lo: int, hi: int):
        q = logql.log_query_of(expr)
        scanned = [e for e in visible if lo < e.ts <= hi and q.selects(e.series())]
        kept = [e for e in scanned if q.keep(e.line)]
        return scanned, kept, [(e.series(), e.ts, e.line) for e in kept]

    # ---- query endpoints ----------------------------------------------------------------------
    @route("/loki/api/v1/query_range", methods=QUERY_METHODS)
    def query_range(self, req: Request) -> Response:
        started = time.perf_counter()
        tenant = self.tenant(req)
        p = self._params(req)
        start, end = self._bounds(p)
        if end < start:
            raise _query_error("end timestamp must not be before or equal to start time")
        limit, direction = self._limit_direction(p)
        if p.get("step"):
            try:
                step = parse_seconds_or_duration(p["step"])
            except ValueError as e:
                raise _query_error(str(e)) from None
        else:
            step = max(math.floor((end - start) / NS / 250), 1) * NS
        if step <= 0:
            raise _query_error("zero or negative query resolution step widths are not accepted. "
                               "Try a positive integer")
        if (end - start) // step > 11000:
            raise _query_error("exceeded maximum resolution of 11,000 points per time series. "
                               "Try increasing the value of the step parameter")
        expr = self._parse_query(p)
        visible = self._visible(tenant)
        if logql.is_log_query(expr):
            return self._streams(expr, visible, start, end, limit, direction, started)
        rng = logql.range_of(expr)
        scanned, kept, inputs = self._metric_inputs(expr, visible, start - rng, end)
        series: dict[tuple, dict] = {}
        t = start
        while t <= end:
            for labels, value in logql.evaluate_instant(expr, inputs, t):
                key = tuple(sorted(labels.items()))
                series.setdefault(key, {"metric": dict(key), "values": []})
                series[key]["values"].append([sample_time(t), go_float(value)])
            t += step
        result = [series[k] for k in sorted(series)]
        return self._success({"resultType": "matrix", "result": result,
                              "stats": build_stats(scanned, len(kept), sum(len(s["values"]) for s in result),
                                                   started)})

    @route("/loki/api/v1/query", methods=QUERY_METHODS)
    def query(self, req: Request) -> Response:
        started = time.perf_counter()
        tenant = self.tenant(req)
        p = self._params(req)
        self._limit_direction(p)
        try:
            t = parse_timestamp(p.get("time"), time.time_ns())
        except ValueError as e:
            raise _query_error(str(e)) from None
        expr = self._parse_query(p)
        if logql.is_log_query(expr):
            raise _query_error("log queries are not supported as an instant query type, please change your "
                               "query to a range query type")
        scanned, kept, inputs = self._metric_inputs(expr, self._visible(tenant), t - logql.range_of(expr), t)
        result = [{"metric": labels, "value": [sample_time(t), go_float(v)]}
                  for labels, v in logql.evaluate_instant(expr, inputs, t)]
        return self._success({"resultType": "vector", "result": result,
                              "stats": build_stats(scanned, len(kept), len(result), started)})

    # ---- labels -------------------------------------------------------------------------------
    def _label_scope(self, req: Request) -> list[Entry]:
        tenant = self.tenant(req)
        p = self._params(req)
        start, end = self._bounds(p)
        selector = None
        if p.get("query"):
            expr = self._parse_query(p)
            selector = logql.log_query_of(expr)
        return [e for e in self._visible(tenant)
                if start <= e.ts <= end and (selector is None or selector.selects(dict(e.labels)))]

    @staticmethod
    def _names_response(values: set[str]) -> Response:
        body = {"status": "success"}
        if values:  # `data` is omitempty in loghttp.LabelResponse
            body["data"] = sorted(values)
        return json_response(body, content_type=JSON_UTF8)

    @route("/loki/api/v1/labels", "/loki/api/v1/label", methods=QUERY_METHODS)
    def labels(self, req: Request) -> Response:
        return self._names_response({k for e in self._label_scope(req) for k, _ in e.labels})

    @route("/loki/api/v1/label/<name>/values", methods=QUERY_METHODS)
    def label_values(self, req: Request, name: str) -> Response:
        return self._names_response({v for e in self._label_scope(req) for k, v in e.labels if k == name})
