"""pprof (perftools.profiles.Profile) and Pyroscope's Connect push and query messages,
generated from proto/pprof_profile.proto and proto/pyroscope_*.proto (wire-compatible with
google/pprof and grafana/pyroscope api/{push,querier,types}/v1). A pprof on
the wire is usually gzip-compressed; Pyroscope accepts it gzipped or plain (it sniffs the
gzip magic, pkg/pprof/pprof.go RawFromBytes), and so does `decode` here.
"""
from __future__ import annotations

import gzip
import time
from dataclasses import dataclass

from .proto import pyroscope_querier_pb2, pyroscope_types_pb2
from .proto.pprof_profile_pb2 import Profile
from .proto.pyroscope_push_pb2 import PushRequest, PushResponse  # noqa: F401 — the stand-in's Connect reply

GZIP_MAGIC = b"\x1f\x8b"
CPU_PROFILE_TYPE = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


@dataclass(frozen=True)
class Stack:
    frames: tuple[str, ...]  # root first, leaf last
    value: int


def build_profile(stacks: list[Stack], time_ns: int | None = None, duration_ns: int = 10 * 10**9,
                  sample_type: tuple[str, str] = ("cpu", "nanoseconds"),
                  period_type: tuple[str, str] = ("cpu", "nanoseconds"), period: int = 10_000_000,
                  with_counts: bool = False):
    """A Profile with one sample per stack; functions and locations deduplicated by name.

    `with_counts`: lay it out like Go's runtime CPU profile — sample types [samples/count,
    cpu/nanoseconds], each sample's count being its value / period (values must be multiples).
    """
    strings: dict[str, int] = {"": 0}

    def s(text: str) -> int:
        return strings.setdefault(text, len(strings))

    p = Profile()
    if with_counts:
        p.sample_type.add(type=s("samples"), unit=s("count"))
    p.sample_type.add(type=s(sample_type[0]), unit=s(sample_type[1]))
    p.period_type.type, p.period_type.unit = s(period_type[0]), s(period_type[1])
    p.period = period
    p.time_nanos = time.time_ns() if time_ns is None else time_ns
    p.duration_nanos = duration_ns
    p.mapping.add(id=1, filename=s("lgtm-smoke"), has_functions=True)
    locations: dict[str, int] = {}
    for stack in stacks:
        ids = []
        for name in reversed(stack.frames):  # pprof lists a sample's locations leaf first
            if name not in locations:
                fid = len(locations) + 1
                p.function.add(id=fid, name=s(name), system_name=s(name), filename=s("lgtm_smoke/synthetic.py"))
                loc = p.location.add(id=fid, mapping_id=1, address=0x1000 + fid)
                loc.line.add(function_id=fid, line=fid)
                locations[name] = fid
            ids.append(locations[name])
        p.sample.add(location_id=ids, value=[stack.value // period, stack.value] if with_counts else [stack.value])
    p.string_table.extend(sorted(strings, key=strings.get))
    return p


def encode(profile, compress: bool = True) -> bytes:
    raw = profile.SerializeToString()
    return gzip.compress(raw, mtime=0) if compress else raw


def decode(data: bytes):
    """Profile from gzip or plain bytes; ValueError (one line) when it is not a pprof."""
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise ValueError(f"failed to decompress profile: {e}") from None
    p = Profile()
    try:
        p.ParseFromString(data)
    except Exception as e:  # google.protobuf.message.DecodeError and friends
        raise ValueError(f"failed to parse profile: {e}") from None
    n = len(p.string_table)
    if not p.sample_type or n == 0 or p.string_table[0] != "":
        raise ValueError("failed to parse profile: not a pprof profile (no sample types or string table)")
    for f in p.function:
        if not 0 <= f.name < n:
            raise ValueError(f"failed to parse profile: function {f.id} name index {f.name} out of range")
    return p


def sample_types(profile) -> list[tuple[str, str]]:
    st = profile.string_table
    return [(st[v.type], st[v.unit]) for v in profile.sample_type]


def stacks(profile, value_index: int = 0) -> list[Stack]:
    """Each sample as root-first function names and its value (inlined lines expanded)."""
    st = profile.string_table
    funcs = {f.id: st[f.name] for f in profile.function}
    locs = {loc.id: [funcs.get(line.function_id, "?") for line in loc.line] or [hex(loc.address)]
            for loc in profile.location}
    out = []
    for sample in profile.sample:
        frames: list[str] = []
        for lid in sample.location_id:  # leaf first; a location's lines are innermost first
            frames.extend(locs.get(lid, ["?"]))
        value = sample.value[value_index] if len(sample.value) > value_index else 0
        out.append(Stack(tuple(reversed(frames)), value))
    return out


def profile_type_id(profile, name: str) -> str:
    """Pyroscope's profile type id `__name__:sampleType:sampleUnit:periodType:periodUnit`."""
    st = profile.string_table
    stype, sunit = sample_types(profile)[0]
    return f"{name}:{stype}:{sunit}:{st[profile.period_type.type]}:{st[profile.period_type.unit]}"


def push_request(series: list[tuple[dict[str, str], list[bytes]]]):
    """PushRequest: one RawProfileSeries per (labels, [raw pprof bytes])."""
    req = PushRequest()
    for labels, raws in series:
        s = req.series.add()
        for k in sorted(labels):
            s.labels.add(name=k, value=labels[k])
        for raw in raws:
            s.samples.add(raw_profile=raw)
    return req


# --- flame graphs (Pyroscope's query answers) -------------------------------------------------------
def flame_levels(merged: list[Stack]) -> tuple[list[str], list[list[int]], int, int]:
    """Merge stacks into Pyroscope's flame graph: (names, levels, total, maxSelf).

    Level 0 is the `total` root; each level is a flat list of [x delta, total, self, name index]
    quadruples in left-to-right order, x delta-encoded from the end of the previous node on the
    same level; children sorted by name (flamebearer "single" format, pkg/og/structs/flamebearer).
    """
    tree: dict = {}
    for st in merged:
        node = tree
        for frame in st.frames:
            node = node.setdefault(frame, {"_t": 0, "_s": 0, "_c": {}})
            node["_t"] += st.value
            node = node["_c"]
        # the self value sits on the leaf: walk again to add it
        node = tree
        for i, frame in enumerate(st.frames):
            entry = node[frame]
            if i == len(st.frames) - 1:
                entry["_s"] += st.value
            node = entry["_c"]
    total = sum(st.value for st in merged)
    names = ["total"]
    index = {"total": 0}
    levels: list[list[int]] = [[0, total, 0, 0]]
    max_self = 0
    frontier = [(0, tree)]  # (absolute x, children) in left-to-right order
    while frontier:
        level, ends, nxt = [], 0, []
        for x, children in frontier:
            cx = x
            for name in sorted(children):
                entry = children[name]
                if name not in index:
                    index[name] = len(names)
                    names.append(name)
                level += [cx - ends, entry["_t"], entry["_s"], index[name]]
                max_self = max(max_self, entry["_s"])
                ends = cx + entry["_t"]
                nxt.append((cx, entry["_c"]))
                cx += entry["_t"]
        if level:
            levels.append(level)
        frontier = nxt
    return names, levels, total, max_self


def flame_stacks(names: list[str], levels: list[list[int]]) -> dict[tuple[str, ...], int]:
    """Inverse of flame_levels: every stack (root first, without `total`) with its self value > 0."""
    out: dict[tuple[str, ...], int] = {}
    prev: list[tuple[int, int, tuple[str, ...]]] = []  # (x, total, path) on the level above
    for depth, level in enumerate(levels):
        cur, end = [], 0
        for i in range(0, len(level) - 3, 4):
            delta, total, self_, name = (int(v) for v in level[i:i + 4])
            x = end + delta
            end = x + total
            parent = next((p for p in prev if p[0] <= x < p[0] + max(p[1], 1)), None)
            path = () if depth == 0 else (parent[2] if parent else ("?",)) + (names[name],)
            cur.append((x, total, path))
            if self_ and path:
                out[path] = out.get(path, 0) + self_
        prev = cur
    return out


# --- Pyroscope's query API: the Connect RPC messages by name, as the routes name them --------------
QUERIER = {name: getattr(module, name) for module, names in (
    (pyroscope_querier_pb2, ("ProfileTypesRequest", "ProfileTypesResponse", "SelectMergeStacktracesRequest",
                             "SelectMergeStacktracesResponse", "FlameGraph", "Level")),
    (pyroscope_types_pb2, ("ProfileType", "LabelNamesRequest", "LabelNamesResponse", "LabelValuesRequest",
                           "LabelValuesResponse")),
) for name in names}
