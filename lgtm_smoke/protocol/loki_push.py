"""Loki push bodies: JSON, and snappy-block-compressed logproto.PushRequest.

Messages generated from proto/logproto_push.proto (wire-compatible with grafana/loki pkg/push).
Loki treats any Content-Type but application/json as snappy protobuf.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import cramjam

from .proto.logproto_push_pb2 import PushRequest

JSON_HEADERS = {"Content-Type": "application/json"}
PROTOBUF_HEADERS = {"Content-Type": "application/x-protobuf"}


@dataclass
class Stream:
    labels: dict[str, str]
    entries: list[tuple[int, str]] = field(default_factory=list)  # (unix ns, line)


def format_labels(labels: dict[str, str]) -> str:
    """Prometheus label-set syntax, sorted: {a="1", b="2"} (as Loki prints streams)."""
    return "{" + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(labels.items())) + "}"


_PAIR = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_labels(text: str) -> dict[str, str]:
    """Inverse of format_labels(); ValueError on anything else."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"not a label set: {text!r}")
    inner, labels, pos = text[1:-1].strip(), {}, 0
    while pos < len(inner):
        m = _PAIR.match(inner, pos)
        if not m:
            raise ValueError(f"bad label set at {inner[pos:pos + 20]!r}")
        labels[m.group(1)] = json.loads(f'"{m.group(2)}"')
        pos = m.end()
    return labels


def encode_json(streams: list[Stream]) -> bytes:
    return json.dumps({
        "streams": [{"stream": s.labels, "values": [[str(ts), line] for ts, line in s.entries]} for s in streams]
    }).encode()


def encode_protobuf(streams: list[Stream]) -> bytes:
    req = PushRequest()
    for s in streams:
        sa = req.streams.add(labels=format_labels(s.labels))
        for ts, line in s.entries:
            entry = sa.entries.add(line=line)
            entry.timestamp.seconds, entry.timestamp.nanos = divmod(ts, 1_000_000_000)
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def decode_protobuf(body: bytes) -> list[tuple[str, list[tuple[int, str, dict[str, str]]]]]:
    """[(labels text, [(ts ns, line, structured metadata)])]; ValueError('snappy: corrupt input')."""
    try:
        raw = bytes(cramjam.snappy.decompress_raw(body))
    except Exception:
        raise ValueError("snappy: corrupt input") from None
    req = PushRequest()
    req.ParseFromString(raw)
    return [
        (s.labels, [(e.timestamp.seconds * 1_000_000_000 + e.timestamp.nanos, e.line,
                     {p.name: p.value for p in e.structuredMetadata}) for e in s.entries])
        for s in req.streams
    ]
