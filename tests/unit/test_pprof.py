"""The pprof encoder the Pyroscope checks push, and the flame-graph codec they read back with.

Runbook: if these fail, the smoke suite would push profiles Pyroscope cannot parse, or would
misread a correct answer. Fix lgtm_smoke/protocol/pprof.py.
"""
from __future__ import annotations

import gzip

import pytest
from google.protobuf import json_format

from lgtm_smoke.protocol import pprof

STACKS = [pprof.Stack(("main", "work", "leaf_a"), 30), pprof.Stack(("main", "work", "leaf_b"), 50),
          pprof.Stack(("main", "leaf_c"), 70)]


def test_profile_round_trips_through_gzip_with_stacks_types_and_time():
    p = pprof.build_profile(STACKS, time_ns=1_700_000_000_123_456_789, period=10_000_000)
    data = pprof.encode(p)
    assert data[:2] == b"\x1f\x8b", "encode() must gzip like every pprof producer"
    back = pprof.decode(data)
    assert pprof.stacks(back) == STACKS
    assert pprof.sample_types(back) == [("cpu", "nanoseconds")]
    assert back.time_nanos == 1_700_000_000_123_456_789 and back.period == 10_000_000
    assert pprof.profile_type_id(back, "process_cpu") == "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


def test_plain_bytes_decode_too_and_string_table_starts_empty():
    p = pprof.build_profile(STACKS)
    raw = pprof.encode(p, compress=False)
    assert gzip.decompress(pprof.encode(p)) == raw
    back = pprof.decode(raw)
    assert back.string_table[0] == "" and pprof.stacks(back) == STACKS


def test_functions_are_deduplicated_so_symbol_count_is_fixed():
    p = pprof.build_profile(STACKS)
    names = sorted(p.string_table[f.name] for f in p.function)
    assert names == ["leaf_a", "leaf_b", "leaf_c", "main", "work"]
    assert len(p.location) == 5


def test_locations_are_leaf_first_on_the_wire():
    p = pprof.build_profile([pprof.Stack(("root", "leaf"), 1)])
    funcs = {f.id: p.string_table[f.name] for f in p.function}
    locs = {loc.id: funcs[loc.line[0].function_id] for loc in p.location}
    assert [locs[i] for i in p.sample[0].location_id] == ["leaf", "root"]


@pytest.mark.parametrize("data", [b"", b"not a profile at all", b"\x1f\x8b garbage", b"\x0a\x02\x08\x01"])
def test_garbage_is_a_one_line_value_error(data):
    with pytest.raises(ValueError) as e:
        pprof.decode(data)
    assert "\n" not in str(e.value)


def test_flame_levels_follow_the_flamebearer_single_format():
    names, levels, total, max_self = pprof.flame_levels(STACKS)
    assert total == 150 and max_self == 70
    assert names[0] == "total" and levels[0] == [0, 150, 0, 0]
    # level 1: main spans everything; level 2: leaf_c (self 70) then work (80) at x deltas 0, 0
    assert levels[1] == [0, 150, 0, names.index("main")]
    assert levels[2] == [0, 70, 70, names.index("leaf_c"), 0, 80, 0, names.index("work")]
    # level 3: leaf_a and leaf_b under work, which starts at x=70: first delta 70
    assert levels[3] == [70, 30, 30, names.index("leaf_a"), 0, 50, 50, names.index("leaf_b")]


def test_flame_stacks_inverts_flame_levels_even_with_merged_and_repeated_stacks():
    stacks = STACKS + [pprof.Stack(("main", "work", "leaf_a"), 5), pprof.Stack(("other",), 1)]
    names, levels, _, _ = pprof.flame_levels(stacks)
    assert pprof.flame_stacks(names, levels) == {("main", "work", "leaf_a"): 35, ("main", "work", "leaf_b"): 50,
                                                ("main", "leaf_c"): 70, ("other",): 1}
    # protojson int64-as-string levels decode the same
    assert pprof.flame_stacks(names, [[str(v) for v in lv] for lv in levels]) == pprof.flame_stacks(names, levels)


def test_empty_flame_graph_is_a_zero_total_root():
    names, levels, total, _ = pprof.flame_levels([])
    assert (names, levels, total) == (["total"], [[0, 0, 0, 0]], 0)


def test_push_request_protojson_uses_pyroscope_field_names():
    raw = pprof.encode(pprof.build_profile(STACKS))
    req = pprof.push_request([({"service_name": "s", "__name__": "process_cpu"}, [raw])])
    js = json_format.MessageToDict(req)
    assert js["series"][0]["labels"] == [{"name": "__name__", "value": "process_cpu"},
                                         {"name": "service_name", "value": "s"}]
    assert set(js["series"][0]["samples"][0]) == {"rawProfile"}
    again = pprof.PushRequest.FromString(req.SerializeToString())
    assert again.series[0].samples[0].raw_profile == raw


def test_with_counts_lays_out_a_go_style_cpu_profile():
    p = pprof.build_profile(STACKS, period=10, with_counts=True)
    assert pprof.sample_types(p) == [("samples", "count"), ("cpu", "nanoseconds")]
    assert [s.value for s in pprof.stacks(p, 0)] == [3, 5, 7]
    assert pprof.stacks(p, 1) == STACKS
