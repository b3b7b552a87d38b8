"""OTLP traces on the wire (opentelemetry-proto messages): decoding both encodings the
OTLP/HTTP receiver accepts, and Tempo's JSON renderings of a stored trace.

OTLP/JSON differs from protobuf's canonical JSON in one way that matters: trace and span
ids are hex strings, not base64 (OTLP spec, "JSON Protobuf Encoding"). Tempo's own API
answers use gogo jsonpb, i.e. base64 ids — see contracts/tempo.json.
"""
from __future__ import annotations

import base64
import json

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids_to_b64(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_FIELDS and isinstance(value, str):
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode() if value else ""
                except ValueError:
                    raise ValueError(f"invalid {key} {value!r}: OTLP/JSON ids are hex") from None
            else:
                _hex_ids_to_b64(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_b64(item)
    return node


def decode_request(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """ExportTraceServiceRequest from OTLP protobuf or OTLP/JSON; ValueError on bad input."""
    msg = ExportTraceServiceRequest()
    if content_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError as e:
            raise ValueError(f"unexpected end of JSON input: {e}") from None
        try:
            json_format.ParseDict(_hex_ids_to_b64(data), msg, ignore_unknown_fields=True)
        except json_format.ParseError as e:
            raise ValueError(str(e)) from None
        return msg
    try:
        msg.ParseFromString(body)
    except Exception:
        raise ValueError(go_wire_error(body)) from None
    return msg


def go_wire_error(data: bytes) -> str:
    """A Go-protobuf-style reason for bytes that are not a valid message (best effort)."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        if key is None:
            return "proto: unexpected EOF"
        wt = key & 7
        if wt in (6, 7):
            return f"proto: illegal wireType {wt}"
        if wt == 0:
            _, i = _varint(data, i)
            if i is None:
                return "proto: unexpected EOF"
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        elif wt == 2:
            n, i = _varint(data, i)
            if n is None:
                return "proto: unexpected EOF"
            i += n
        if i is None or i > len(data):
            return "unexpected EOF"
    return "proto: cannot parse invalid wire-format data"


def _varint(data: bytes, i: int):
    shift = value = 0
    while i < len(data):
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            return None, None
    return None, None


def success_response(content_type: str) -> tuple[bytes, str]:
    """What the receiver answers on success: ExportTraceServiceResponse with an empty partial_success."""
    resp = ExportTraceServiceResponse()
    resp.partial_success.SetInParent()
    if content_type == "application/json":
        return json_format.MessageToJson(resp, indent=None).encode(), "application/json"
    return resp.SerializeToString(), "application/x-protobuf"


def status_body(code: int, message: str, content_type: str) -> tuple[bytes, str]:
    """google.rpc.Status {code, message} the way the collector's otlphttp writes errors."""
    if content_type == "application/json":
        return json.dumps({"code": code, "message": message}, separators=(",", ":")).encode(), "application/json"
    msg = message.encode()
    out = b"\x08" + bytes([code]) + b"\x12" + _encode_varint(len(msg)) + msg
    return out, "application/x-protobuf"


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def to_dict(message) -> dict:
    """gogo-jsonpb-like rendering: camelCase names, base64 bytes, int64 as strings, enum names."""
    return json_format.MessageToDict(message, preserving_proto_field_name=False)


def attr_value(any_value: dict):
    """The Python value of an OTLP JSON AnyValue dict."""
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in any_value:
            return any_value[key]
    if "intValue" in any_value:
        return int(any_value["intValue"])
    return any_value


def attrs(items: list[dict] | None) -> dict:
    return {a["key"]: attr_value(a.get("value", {})) for a in items or []}


def one_span_request(run_id: str, check: str, service: str = "lgtm-smoke") -> bytes:
    """A minimal valid OTLP protobuf ExportTraceServiceRequest: one span carrying the run id."""
    import os
    import time

    now = time.time_ns()
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = service
    ss = rs.scope_spans.add()
    ss.scope.name = "lgtm_smoke"
    span = ss.spans.add(trace_id=os.urandom(16), span_id=os.urandom(8), name=f"lgtm-smoke {check}", kind=2,
                        start_time_unix_nano=now - 1_000_000, end_time_unix_nano=now)
    span.attributes.add(key="lgtm_smoke.run").value.string_value = run_id
    span.attributes.add(key="lgtm_smoke.check").value.string_value = check
    return req.SerializeToString()
