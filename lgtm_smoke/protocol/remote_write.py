"""Prometheus remote-write v1: prompb.WriteRequest, protobuf, raw-block snappy.

Messages generated from proto/prompb.proto (wire-compatible with prometheus/prompb).
Mimir reads the body with util.RawSnappy: the *block* format, not the framed one.
"""
from __future__ import annotations

from dataclasses import dataclass

import cramjam

from .proto.prompb_pb2 import WriteRequest

HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]  # must include __name__
    value: float
    timestamp_ms: int


def encode(series: list[Series]) -> bytes:
    """Serialize and raw-snappy-compress a WriteRequest (labels sorted, as Prometheus requires)."""
    req = WriteRequest()
    for s in series:
        ts = req.timeseries.add()
        for name in sorted(s.labels):
            ts.labels.add(name=name, value=s.labels[name])
        ts.samples.add(value=s.value, timestamp=s.timestamp_ms)
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def decode(body: bytes) -> list[Series]:
    """Inverse of encode(); raises ValueError('snappy: corrupt input') like the real receivers."""
    try:
        raw = bytes(cramjam.snappy.decompress_raw(body))
    except Exception:
        raise ValueError("snappy: corrupt input") from None
    req = WriteRequest()
    try:
        req.ParseFromString(raw)
    except Exception as e:
        raise ValueError(f"proto: {e}") from None
    out = []
    for ts in req.timeseries:
        labels = {lp.name: lp.value for lp in ts.labels}
        for sample in ts.samples:
            out.append(Series(labels, sample.value, sample.timestamp))
    return out
