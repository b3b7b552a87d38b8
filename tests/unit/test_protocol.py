"""The wire formats: generated from lgtm_smoke/protocol/proto/*.proto, held to upstream.

Fails when a .proto was edited without regenerating (`python -m lgtm_smoke.protocol.generate`),
or when a message drifts from the upstream field table (upstream_fields.json) — a wrong field
number is silent on the wire until a backend drops the data.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from google.protobuf.descriptor import FieldDescriptor

from lgtm_smoke.protocol import generate

TABLE = json.loads((Path(generate.__file__).parent / "upstream_fields.json").read_text())
TYPES = {v: k[len("TYPE_"):].lower() for k, v in vars(FieldDescriptor).items() if k.startswith("TYPE_")}


def test_generated_modules_match_their_proto_sources(tmp_path):
    pytest.importorskip("grpc_tools", reason="grpcio-tools is in the test extra")
    fresh = generate.generate(tmp_path)
    assert fresh, "protoc generated nothing"
    stale = [p.name for p in fresh if p.read_bytes() != (generate.PROTO_DIR / p.name).read_bytes()]
    assert not stale, f"regenerate with `python -m lgtm_smoke.protocol.generate`: stale {stale}"


@pytest.mark.parametrize("proto", sorted(TABLE["files"]))
def test_messages_keep_upstream_field_numbers_and_types(proto):
    spec = TABLE["files"][proto]
    module = importlib.import_module(f"lgtm_smoke.protocol.proto.{proto.removesuffix('.proto')}_pb2")
    assert module.DESCRIPTOR.package == spec["package"]
    ours = {m.name: {f.name: [f.number, f.message_type.full_name if f.message_type else TYPES[f.type],
                              "repeated" if f.is_repeated else "singular"] for f in m.fields}
            for m in module.DESCRIPTOR.message_types_by_name.values()}
    assert ours == spec["messages"], f"{proto} drifted from {spec['upstream']} at {spec['commit']}"


def test_pyroscope_profile_type_uses_upstream_numbers_on_the_wire():
    """types.v1.ProfileType numbers sample_type..period_unit 4–7 upstream (3 is unused); the
    hand-built schema this replaced had 3–6, which garbles ProfileTypes answers read as protobuf."""
    from lgtm_smoke.protocol.proto.pyroscope_types_pb2 import ProfileType

    wire = ProfileType(sample_type="cpu").SerializeToString()
    assert wire == b"\x22\x03cpu"  # field 4, length-delimited
