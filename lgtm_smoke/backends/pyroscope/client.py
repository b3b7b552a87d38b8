"""Pyroscope through the ALB: a real pprof profile (built in code, gzip) pushed two ways —
legacy `/pyroscope/ingest?format=pprof` and Connect `/push.v1.PusherService/Push` — and read
back exactly (`/pyroscope/render`, `/querier.v1.QuerierService/SelectMergeStacktraces`).

Cardinality stays bounded: fixed service name and function names; labels `check` (4 values:
the two round trips, the isolation check and the Grafana proxy read) and `run_slot` (the run
id's last two hex digits: 256 values). The run itself is carried in the sample values (a
run-derived multiplier), so the exact total proves these are this run's samples; two runs
collide only if they share the slot *and* push in the same second.
"""
from __future__ import annotations

import time
from typing import Any

from ...http import Exchange
from ...outcome import CheckFailed
from ...probe import NotYetVisible, ProbeContext, expect_status, json_of
from ...protocol import pprof

INGEST = "/pyroscope/ingest"
RENDER = "/pyroscope/render"
CONNECT_PUSH = "/push.v1.PusherService/Push"
MERGE_STACKTRACES = "/querier.v1.QuerierService/SelectMergeStacktraces"
PROFILE_TYPES = "/querier.v1.QuerierService/ProfileTypes"
SERVICE = "lgtm-smoke"
PROFILE_TYPE = pprof.CPU_PROFILE_TYPE  # process_cpu:cpu:nanoseconds:cpu:nanoseconds
PERIOD_NS = 10_000_000  # 100 Hz
# root-first stacks and their sample counts; leaves carry the fixed smoke names
STACKS = (
    (("lgtm_smoke_main", "lgtm_smoke_work", "lgtm_smoke_probe_leaf_a"), 3),
    (("lgtm_smoke_main", "lgtm_smoke_work", "lgtm_smoke_probe_leaf_b"), 5),
    (("lgtm_smoke_main", "lgtm_smoke_probe_leaf_c"), 7),
)
FUNCTIONS = sorted({f for frames, _ in STACKS for f in frames})


def run_scale(run_id: str) -> int:
    return 1 + int(run_id, 16) % 97


def expected_stacks(run_id: str) -> dict[tuple[str, ...], int]:
    """Each stack's value in nanoseconds for this run."""
    return {frames: count * run_scale(run_id) * PERIOD_NS for frames, count in STACKS}


def run_labels(run_id: str, check: str) -> dict[str, str]:
    return {"service_name": SERVICE, "check": check, "run_slot": run_id[-2:]}


def make_profile(run_id: str, time_ns: int) -> Any:
    """Laid out like a Go runtime CPU profile (samples/count + cpu/nanoseconds), the most common input."""
    return pprof.build_profile([pprof.Stack(f, v) for f, v in expected_stacks(run_id).items()], time_ns=time_ns,
                               period=PERIOD_NS, with_counts=True)


def selector(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def compare(ex: Exchange, names: list[str], levels: list, total: int, run_id: str) -> dict:
    """Exact comparison of a flame graph with this run's profile; NotYetVisible while it differs."""
    want = expected_stacks(run_id)
    want_total = sum(want.values())
    if total == 0:
        raise NotYetVisible(ex, "an empty flame graph (total 0)")
    got = pprof.flame_stacks(names, levels)
    missing = [f for f in FUNCTIONS if f not in names]
    if missing or total != want_total or got != want:
        what = f"total {total} (expected {want_total})"
        if missing:
            what += f", functions missing: {missing}"
        elif got != want:
            what += f", stacks {sorted((';'.join(k), v) for k, v in got.items())[:4]}"
        if total > want_total:
            what += " — more than this run pushed: another writer in this tenant uses the same labels?"
        raise NotYetVisible(ex, what)
    return {"total": total, "functions": FUNCTIONS, "stacks": len(got)}


def profile_time_ns() -> int:
    """Now, on a whole second: the legacy ingest's `from` (seconds) and the profile's own time then
    agree, whichever one Pyroscope stamps the samples with."""
    return time.time_ns() // 10**9 * 10**9


def _window(t_ns: int) -> tuple[int, int]:
    """The query window (ms): exactly the profile's second, so another run's samples (pushed in
    another second) stay out of the exact total."""
    t_ms = t_ns // 10**6
    return t_ms, t_ms + 999


def ingest_name(labels: dict[str, str]) -> str:
    """The legacy ingest's `name`: the service, then the other labels as tags (`lgtm-smoke{check=…,run_slot=…}`)."""
    tags = ",".join(f"{k}={v}" for k, v in labels.items() if k != "service_name")
    return f"{labels['service_name']}{{{tags}}}"


def ingest_params(name: str, t_ns: int, seconds: int = 1) -> dict[str, str]:
    return {"name": name, "format": "pprof", "from": str(t_ns // 10**9), "until": str(t_ns // 10**9 + seconds),
            "spyName": "lgtm-smoke", "sampleRate": "100"}


def push_ingest(ctx: ProbeContext, labels: dict[str, str]) -> int:
    """This run's profile via legacy `/pyroscope/ingest?format=pprof` as the run's tenant; its time (ns)."""
    t_ns = profile_time_ns()
    body = pprof.encode(make_profile(ctx.run_id, t_ns))
    params = ingest_params(ingest_name(labels), t_ns)
    ctx.push(lambda: ctx.client.post(INGEST, params=params, data=body,
                                     headers={"Content-Type": "application/octet-stream"}), what="pprof ingest")
    return t_ns


def push_connect(ctx: ProbeContext, labels: dict[str, str]) -> int:
    """This run's profile via Connect `/push.v1.PusherService/Push` as the run's tenant; its time (ns)."""
    t_ns = profile_time_ns()
    raw = pprof.encode(make_profile(ctx.run_id, t_ns))
    body = pprof.push_request([({"__name__": "process_cpu", **labels}, [raw])]).SerializeToString()
    ctx.push(lambda: ctx.client.post(CONNECT_PUSH, data=body,
                                     headers={"Content-Type": "application/proto", "Connect-Protocol-Version": "1"}),
             what="Connect push")
    return t_ns


def render_params(labels: dict[str, str], t_ns: int) -> dict[str, str]:
    """GET /pyroscope/render parameters for the profile pushed at t_ns with `labels`."""
    start, end = _window(t_ns)
    return {"query": PROFILE_TYPE + selector(labels), "from": str(start), "until": str(end)}


def _json(ex: Exchange, what: str) -> Any:
    return json_of(expect_status(ex, "read"), "read", f"Pyroscope's {what}")


def flamebearer(ex: Exchange) -> tuple[list[str], list, int]:
    """(names, levels, total) of a /pyroscope/render answer."""
    data = _json(ex, "render (flamebearer)")
    fb = data.get("flamebearer") if isinstance(data, dict) else None
    if not isinstance(fb, dict):
        raise CheckFailed(f"read: {ex.method} {ex.path} → {ex.status} has no flamebearer: {ex.preview(120)}")
    return fb.get("names") or [], fb.get("levels") or [], int(fb.get("numTicks") or 0)


def merge_request(labels: dict[str, str], t_ns: int) -> dict:
    """SelectMergeStacktraces (protojson) for the profile pushed at t_ns with `labels`: what Grafana's
    Pyroscope datasource sends for a flame graph."""
    start, end = _window(t_ns)
    return {"profileTypeID": PROFILE_TYPE, "labelSelector": selector(labels), "start": str(start), "end": str(end),
            "format": 1}


def flamegraph(ex: Exchange) -> tuple[list[str], list, int]:
    """(names, levels, total) of a SelectMergeStacktraces answer."""
    data = _json(ex, "SelectMergeStacktraces")
    fg = (data or {}).get("flamegraph") or {}
    return fg.get("names") or [], [lv.get("values") or [] for lv in fg.get("levels") or []], int(fg.get("total") or 0)
