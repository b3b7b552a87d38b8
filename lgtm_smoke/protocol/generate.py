"""Regenerate the committed `proto/*_pb2.py` (+ `.pyi`) from `proto/*.proto`.

    pip install "grpcio-tools==1.85.1"      # protoc 35.1; the runtime pin in pyproject follows it
    python -m lgtm_smoke.protocol.generate

The `.proto` files are lgtm-smoke's own wire-compatible subsets of the upstream files each
one names in its header (upstream source is not vendored: only message, field names and
numbers are used). `tests/unit/test_protocol.py` fails when a generated module is stale or
a field drifts from `upstream_fields.json`, the table read from those upstream files.
"""
from __future__ import annotations

import sys
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent / "proto"
ROOT = PROTO_DIR.parents[2]  # imports are written from the repository root: lgtm_smoke/protocol/proto/x.proto


def generate(out_root: Path = ROOT) -> list[Path]:
    """Run protoc on every .proto; returns the generated files (under out_root)."""
    import grpc_tools
    from grpc_tools import protoc

    include = str(Path(grpc_tools.__file__).resolve().parent / "_proto")  # google/protobuf/*.proto
    protos = sorted(str(p.relative_to(ROOT)) for p in PROTO_DIR.glob("*.proto"))
    args = ["protoc", f"-I{ROOT}", f"-I{include}", f"--python_out={out_root}", f"--pyi_out={out_root}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed (see above)")
    return sorted((out_root / PROTO_DIR.relative_to(ROOT)).glob("*_pb2.py*"))


if __name__ == "__main__":
    for path in generate():
        print(path.relative_to(ROOT))
    sys.exit(0)
