"""Loki push encoders (lgtm_smoke.protocol.loki_push): what the smoke client sends is what Loki reads.

Runbook: a failure here means a push body would be mis-read by Loki (lost nanoseconds, mangled label
values, wrong framing). The label-set cases are cross-checked against the stand-in's Prometheus-style
label parser, the same grammar real Loki applies to protobuf pushes.
"""
from __future__ import annotations

import json

import cramjam
import pytest
from lgtm_refstack.logql import parse_metric

from lgtm_smoke.protocol.loki_push import (
    PushRequest,
    Stream,
    decode_protobuf,
    encode_json,
    encode_protobuf,
    format_labels,
    parse_labels,
)

TRICKY = {
    "plain": "lgtm-smoke",
    "quote": 'say "hi"',
    "backslash": "C:\\temp\\",
    "both": '\\"',
    "unicode": "café ☕ 日本",
    "astral": "emoji 😀",
    "newline": "a\nb\tc",
    "empty": "",
    "comma_brace": 'x", y="}',
}


def test_json_round_trip_keeps_labels_lines_and_ns_strings():
    """encode_json writes Loki's shape: ns timestamps as strings, labels as a map, lines untouched."""
    streams = [Stream({"job": "a", "check": "loki"}, [(1795388553114677248, "line one"), (1, "ünïcode ☕")]),
               Stream({"job": "b"}, [])]
    doc = json.loads(encode_json(streams))
    assert doc == {"streams": [
        {"stream": {"job": "a", "check": "loki"},
         "values": [["1795388553114677248", "line one"], ["1", "ünïcode ☕"]]},
        {"stream": {"job": "b"}, "values": []},
    ]}


def test_protobuf_round_trip_keeps_nanoseconds_and_labels():
    """encode_protobuf -> decode_protobuf gives back every entry with its exact ns timestamp."""
    streams = [Stream(dict(TRICKY), [(1795388553114677248, "first"), (1795388553114677249, "second ☕")]),
               Stream({"job": "lgtm-smoke", "check": "loki-proto"}, [(5, "tiny ts")])]
    decoded = decode_protobuf(encode_protobuf(streams))
    assert [parse_labels(labels) for labels, _ in decoded] == [TRICKY, {"job": "lgtm-smoke", "check": "loki-proto"}]
    assert [[(ts, line) for ts, line, _ in entries] for _, entries in decoded] == [
        [(1795388553114677248, "first"), (1795388553114677249, "second ☕")], [(5, "tiny ts")]]
    assert all(sm == {} for _, entries in decoded for _, _, sm in entries)


def test_protobuf_body_is_snappy_block_not_framed():
    """The body is raw snappy block format (what Loki's util.RawSnappy reads), not the framed format."""
    body = encode_protobuf([Stream({"job": "a"}, [(1, "x")])])
    raw = bytes(cramjam.snappy.decompress_raw(body))
    req = PushRequest()
    req.ParseFromString(raw)
    assert req.streams[0].labels == '{job="a"}' and req.streams[0].entries[0].line == "x"


def test_decode_rejects_unsnappied_bodies_with_lokis_text():
    """Uncompressed protobuf bytes fail as Loki fails: `snappy: corrupt input`."""
    req = PushRequest()
    req.streams.add(labels='{job="a"}').entries.add(line="x")
    for body in (req.SerializeToString(), b"\xff\xff\xff\xff\xff"):
        with pytest.raises(ValueError) as err:
            decode_protobuf(body)
        assert str(err.value) == "snappy: corrupt input"


def test_decode_reads_structured_metadata():
    """Structured metadata on an entry is decoded into a name -> value map."""
    req = PushRequest()
    entry = req.streams.add(labels='{job="a"}').entries.add(line="x")
    entry.structuredMetadata.add(name="trace_id", value="abc")
    body = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
    assert decode_protobuf(body) == [('{job="a"}', [(0, "x", {"trace_id": "abc"})])]


def test_format_labels_is_sorted_prometheus_syntax():
    """Label sets print sorted by name, `name="value"` joined by `, `, as Loki prints streams."""
    assert format_labels({"job": "x", "check": "loki", "a": "1"}) == '{a="1", check="loki", job="x"}'
    assert format_labels({}) == "{}"
    assert format_labels({"q": 'say "hi"', "b": "C:\\"}) == '{b="C:\\\\", q="say \\"hi\\""}'




@pytest.mark.parametrize("name", sorted(TRICKY))
def test_format_then_parse_round_trips_tricky_values(name):
    """Quotes, backslashes, unicode, control characters survive format_labels -> parse_labels."""
    labels = {"job": "smoke", "v": TRICKY[name]}
    text = format_labels(labels)
    assert parse_labels(text) == labels
    # and Loki's (Prometheus') parser reads the same label set from the same text
    assert dict(parse_metric(text)) == labels


@pytest.mark.parametrize("text", ['job="a"', '{job="a"', '{job=a}', '{1job="a"}', '{job="a" x="b"}', '{job="a\\"}'])
def test_parse_labels_rejects_malformed_sets(text):
    """parse_labels raises ValueError instead of guessing."""
    with pytest.raises(ValueError):
        parse_labels(text)


def test_parse_labels_tolerates_whitespace_and_trailing_comma():
    """Spacing around names, `=` and `,` is not significant."""
    assert parse_labels('{ a = "1" ,b="2", }') == {"a": "1", "b": "2"}
