"""pprof (perftools.profiles.Profile) and Pyroscope's Connect push messages, built at run
time with `protoschema.build`.

Schemas copied from google/pprof proto/profile.proto and grafana/pyroscope
api/push/v1/push.proto + api/types/v1/types.proto (field numbers as upstream). A pprof on
the wire is usually gzip-compressed; Pyroscope accepts it gzipped or plain (it sniffs the
gzip magic, pkg/pprof/pprof.go RawFromBytes), and so does `decode` here.
"""
from __future__ import annotations

import gzip
import time
from dataclasses import dataclass

from .protoschema import build

_P = build(
    "perftools.profiles",
    {
        "ValueType": [("type", 1, "int64"), ("unit", 2, "int64")],
        "Sample": [("location_id", 1, "uint64", "repeated"), ("value", 2, "int64", "repeated"),
                   ("label", 3, "Label", "repeated")],
        "Label": [("key", 1, "int64"), ("str", 2, "int64"), ("num", 3, "int64"), ("num_unit", 4, "int64")],
        "Mapping": [("id", 1, "uint64"), ("memory_start", 2, "uint64"), ("memory_limit", 3, "uint64"),
                    ("file_offset", 4, "uint64"), ("filename", 5, "int64"), ("build_id", 6, "int64"),
                    ("has_functions", 7, "bool"), ("has_filenames", 8, "bool"), ("has_line_numbers", 9, "bool"),
                    ("has_inline_frames", 10, "bool")],
        "Line": [("function_id", 1, "uint64"), ("line", 2, "int64"), ("column", 3, "int64")],
        "Location": [("id", 1, "uint64"), ("mapping_id", 2, "uint64"), ("address", 3, "uint64"),
                     ("line", 4, "Line", "repeated"), ("is_folded", 5, "bool")],
        "Function": [("id", 1, "uint64"), ("name", 2, "int64"), ("system_name", 3, "int64"),
                     ("filename", 4, "int64"), ("start_line", 5, "int64")],
        "Profile": [("sample_type", 1, "ValueType", "repeated"), ("sample", 2, "Sample", "repeated"),
                    ("mapping", 3, "Mapping", "repeated"), ("location", 4, "Location", "repeated"),
                    ("function", 5, "Function", "repeated"), ("string_table", 6, "string", "repeated"),
                    ("drop_frames", 7, "int64"), ("keep_frames", 8, "int64"), ("time_nanos", 9, "int64"),
                    ("duration_nanos", 10, "int64"), ("period_type", 11, "ValueType"), ("period", 12, "int64"),
                    ("comment", 13, "int64", "repeated"), ("default_sample_type", 14, "int64")],
    },
    filename="lgtm_smoke_pprof_profile.proto",
)
Profile = _P["Profile"]

_PUSH = build(
    "push.v1",
    {
        "LabelPair": [("name", 1, "string"), ("value", 2, "string")],
        "RawSample": [("raw_profile", 1, "bytes"), ("ID", 2, "string")],
        "RawProfileSeries": [("labels", 1, "LabelPair", "repeated"), ("samples", 2, "RawSample", "repeated")],
        "PushRequest": [("series", 1, "RawProfileSeries", "repeated")],
        "PushResponse": [],
    },
    filename="lgtm_smoke_pyroscope_push.proto",
)
PushRequest = _PUSH["PushRequest"]
PushResponse = _PUSH["PushResponse"]

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


# --- Pyroscope's query API (api/querier/v1/querier.proto + api/types/v1/types.proto) ------------------
_Q = build(
    "querier.v1",
    {
        "ProfileType": [("ID", 1, "string"), ("name", 2, "string"), ("sample_type", 3, "string"),
                        ("sample_unit", 4, "string"), ("period_type", 5, "string"), ("period_unit", 6, "string")],
        "ProfileTypesRequest": [("start", 1, "int64"), ("end", 2, "int64")],
        "ProfileTypesResponse": [("profile_types", 1, "ProfileType", "repeated")],
        "LabelNamesRequest": [("matchers", 1, "string", "repeated"), ("start", 2, "int64"), ("end", 3, "int64")],
        "LabelNamesResponse": [("names", 1, "string", "repeated")],
        "LabelValuesRequest": [("name", 1, "string"), ("matchers", 2, "string", "repeated"), ("start", 3, "int64"),
                               ("end", 4, "int64")],
        "LabelValuesResponse": [("names", 1, "string", "repeated")],
        # format is the ProfileFormat enum on the wire (varint): int32 reads the same bytes and JSON numbers
        "SelectMergeStacktracesRequest": [("profile_typeID", 1, "string"), ("label_selector", 2, "string"),
                                          ("start", 3, "int64"), ("end", 4, "int64"), ("max_nodes", 5, "int64"),
                                          ("format", 6, "int32")],
        "Level": [("values", 1, "int64", "repeated")],
        "FlameGraph": [("names", 1, "string", "repeated"), ("levels", 2, "Level", "repeated"), ("total", 3, "int64"),
                       ("max_self", 4, "int64")],
        "SelectMergeStacktracesResponse": [("flamegraph", 1, "FlameGraph"), ("tree", 2, "bytes")],
    },
    filename="lgtm_smoke_pyroscope_querier.proto",
)
QUERIER = _Q
