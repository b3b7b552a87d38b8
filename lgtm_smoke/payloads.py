"""The bodies the suite sends, as files an on-call engineer sends by hand with curl (the repository's
top-level `payloads/`; the commands are docs/runbook.md "By hand"). `lgtm-smoke payloads` writes them
from the backends' own encoders, `lgtm-smoke payloads --check` says which committed file drifted.

The files are committed, so nothing in them may change per run: a fixed run id (`RUN_ID`, carried
in values and lines as the suite carries its own) and the suite's labels with `check="runbook"`, a
value of its own so a hand push never lands in a running suite's exact read-backs. Timestamps must
be fresh when sent:
- the JSON bodies carry placeholders the runbook's `sed` fills (`__NOW_NS__`, and `__TRACE_ID__`
  so each trace pushed by hand is one of its own);
- the pprof carries no time (`time_nanos` 0): Pyroscope stamps it at ingest;
- a remote-write sample must carry its time, and raw snappy cannot be edited by `sed`, but it has
  no checksum: the sample's timestamp is 6 varint bytes inside a snappy literal, and
  `mimir-remote-write.sh` (written here with their offset) overwrites them with the time of sending.
  Debian's promtool 2.42 (the tool that could stamp it) has no `push metrics` and sends no headers.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from .backends.loki import client as loki
from .backends.mimir import client as mimir
from .backends.pyroscope import client as pyroscope
from .backends.tempo import client as tempo
from .protocol import pprof, remote_write

RUN_ID = "00000000ca11"  # 12 hex digits, like a run id: "ca11", a call by hand
CHECK = "runbook"
NOW_NS = "__NOW_NS__"
TRACE_ID = "__TRACE_ID__"
README = "README.md"  # written by hand: the one file in payloads/ that is not generated

# A time that is no time of sending, where the encoders take one; the JSON bodies carry the
# placeholder in its place, the remote-write body a timestamp of the same varint width as any
# millisecond time from 1971 to 2109 (6 bytes).
_SENTINEL_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
_SENTINEL_MS = _SENTINEL_NS // 10**6
_VARINT_BYTES = 6

MIMIR_LABELS = {**mimir.LABELS, "check": CHECK}
PYROSCOPE_LABELS = pyroscope.run_labels(RUN_ID, CHECK)
PYROSCOPE_INGEST_NAME = pyroscope.ingest_name(PYROSCOPE_LABELS)

# What each backend's read-back (docs/runbook.md "By hand") finds when the push landed.
FINDS = {
    "mimir": f'"{mimir.run_value(RUN_ID):g}"',  # the sample value, as PromQL's JSON writes it
    "loki": loki.probe_line(RUN_ID, CHECK),
    "tempo": f"lgtm-smoke {CHECK}",  # the span's name
    "pyroscope": pyroscope.STACKS[0][0][-1],  # a leaf function of the flame graph
}


def _with_placeholder(body: bytes, sentinel: int, placeholder: str, count: int) -> bytes:
    quoted = json.dumps(str(sentinel)).encode()
    if body.count(quoted) != count:
        raise RuntimeError(f"expected {count} timestamp(s) {quoted!r} in the encoder's body: {body[:200]!r}")
    return body.replace(quoted, json.dumps(placeholder).encode())


def loki_push_json() -> bytes:
    """`/loki/api/v1/push` JSON: the suite's stream labels and probe line, stamped `__NOW_NS__`."""
    body = loki.stream_body(CHECK, loki.probe_line(RUN_ID, CHECK), _SENTINEL_NS)
    return _with_placeholder(body, _SENTINEL_NS, NOW_NS, 1) + b"\n"


def tempo_trace_json() -> bytes:
    """`/v1/traces` OTLP/JSON: the suite's one-span trace, id `__TRACE_ID__`, starting and ending `__NOW_NS__`."""
    body = tempo.otlp_json_trace(RUN_ID, TRACE_ID, CHECK, now_ns=_SENTINEL_NS, duration_ns=0)
    return _with_placeholder(body, _SENTINEL_NS, NOW_NS, 2) + b"\n"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mimir_remote_write() -> bytes:
    """`/api/v1/push` raw-snappy prompb: the suite's fixed series with this run's value, sample time `_SENTINEL_MS`."""
    return mimir.encode_sample(MIMIR_LABELS, mimir.run_value(RUN_ID), _SENTINEL_MS)


def timestamp_offset(body: bytes) -> int:
    """Where the sample's timestamp sits in `body`, proven by patching it: the patched body must decode
    to the same sample at the new time (raw snappy has no checksum; the bytes must be a literal)."""
    stamp = _varint(_SENTINEL_MS)
    offset = body.find(stamp)
    if len(stamp) != _VARINT_BYTES or offset < 0 or body.count(stamp) != 1:
        raise RuntimeError("the remote-write body does not hold its timestamp once as a snappy literal: "
                           "choose another _SENTINEL_NS")
    for ms in (2**35, _SENTINEL_MS + 1, 2**42 - 1):  # the ends of the 6-byte range and a neighbour
        patched = body[:offset] + _varint(ms) + body[offset + _VARINT_BYTES:]
        if remote_write.decode(patched) != [remote_write.Series(MIMIR_LABELS, mimir.run_value(RUN_ID), ms)]:
            raise RuntimeError(f"patching the timestamp at byte {offset} does not give the sample at {ms} ms")
    return offset


STAMP_SCRIPT = """\
#!/bin/sh
# Written by `lgtm-smoke payloads` (lgtm_smoke/payloads.py): do not edit.
# Prints mimir-remote-write.bin with its sample stamped at $1 (Unix ms; default now).
# The sample's timestamp is the 6 varint bytes at byte {offset}, inside a snappy literal;
# raw snappy has no checksum, so overwriting them gives a valid body.
set -eu
body="$(dirname "$0")/mimir-remote-write.bin"
ms=${{1:-$(date +%s%3N)}}
case $ms in *[!0-9]* | "") echo "mimir-remote-write.sh: '$ms' is not a time in Unix milliseconds" >&2; exit 2;; esac
if [ "$ms" -lt 34359738368 ] || [ "$ms" -ge 4398046511104 ]; then
  echo "mimir-remote-write.sh: $ms ms is not a time between 1971 and 2109" >&2; exit 2
fi
head -c {offset} "$body"
i=0
while [ $i -lt 5 ]; do  # 7 bits at a time, low first, the continuation bit set
  printf "\\\\$(printf %o $(( (ms >> (7 * i)) & 127 | 128 )))"
  i=$((i + 1))
done
printf "\\\\$(printf %o $(( ms >> 35 )))"
tail -c +{after} "$body"
"""


def mimir_stamp_script() -> bytes:
    offset = timestamp_offset(mimir_remote_write())
    return STAMP_SCRIPT.format(offset=offset, after=offset + _VARINT_BYTES + 1).encode()


def pyroscope_pprof() -> bytes:
    """`/pyroscope/ingest?format=pprof`: the suite's CPU profile (gzip) with this run's values and no time."""
    return pprof.encode(pyroscope.make_profile(RUN_ID, time_ns=0))


FILES: dict[str, Callable[[], bytes]] = {
    "loki-push.json": loki_push_json,
    "tempo-trace.json": tempo_trace_json,
    "mimir-remote-write.bin": mimir_remote_write,
    "mimir-remote-write.sh": mimir_stamp_script,
    "pyroscope-cpu.pb.gz": pyroscope_pprof,
}
EXECUTABLE = {"mimir-remote-write.sh"}


def build() -> dict[str, bytes]:
    return {name: make() for name, make in FILES.items()}


def drift(folder: Path) -> list[str]:
    """One line per file of `folder` that differs from what the encoders make (missing, changed, stray)."""
    made = build()
    out = [f"{name}: missing" if not (folder / name).is_file() else f"{name}: differs from what the encoders make"
           for name, body in made.items() if not (folder / name).is_file() or (folder / name).read_bytes() != body]
    out += [f"{p.name}: not made by the encoders (stray file)" for p in sorted(folder.iterdir())
            if p.name not in made and p.name != README]
    return out


def write(folder: Path) -> list[str]:
    """Write every file into `folder`; the names of those that changed."""
    changed = []
    for name, body in build().items():
        path = folder / name
        if not path.is_file() or path.read_bytes() != body:
            path.write_bytes(body)
            changed.append(name)
        if name in EXECUTABLE:
            path.chmod(0o755)
    return changed
