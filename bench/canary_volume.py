#!/usr/bin/env python
"""What one canary run writes into each backend, and how long it takes. Measured against one
local reference stack; per day = per run × runs a day at the canary's interval.

    python bench/canary_volume.py [--runs 3] [--interval-minutes 5] [--write]

One ReferenceStack (tenant `lgtm-smoke-bench`, nginx logging every request's size), one untimed
warm-up run (it creates the fixed series once), then --runs runs of what the canary's task runs
(`python -m pytest -m "smoke and not aws" --push-results`: the AWS half only reads AWS APIs and
writes nothing into a backend). Between the two snapshots around those runs:

  series   Mimir: new series in every tenant's Prometheus (prometheus_tsdb_head_series);
           Loki: new stream label sets; Pyroscope: new profile series (label sets)
  samples  Mimir: samples appended (prometheus_tsdb_head_samples_appended_total)
  lines    Loki: log lines stored        spans  Tempo: spans stored     profiles  Pyroscope
  bytes    request bytes the ALB (nginx) received and response bytes it sent, per backend, headers
           included: all requests
           (reads, and the security checks' writes the ALB or the backend refuses), and the
           accepted writes alone (a 2xx POST to a push path)

Every figure is a per-run mean over --runs. Numbers, not tests: nothing here is asserted.
--write puts the table into bench/README.md between the canary-volume markers.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the harness the project's tests run the suite with

from harness import run_pytest  # noqa: E402
from lgtm_refstack.stack import ReferenceStack  # noqa: E402

from lgtm_smoke.data import routes  # noqa: E402

TENANT = "lgtm-smoke-bench"
MARK = "smoke and not aws"
WRITE_PATHS = ("/api/v1/push", "/loki/api/v1/push", "/v1/traces", "/pyroscope/ingest", "/push.v1.PusherService/Push")
BEGIN, END = "<!-- canary-volume:begin -->", "<!-- canary-volume:end -->"


def _prom_metric(url: str, name: str) -> float:
    """The sum over every label set of `name` (2.42 splits samples appended by {type})."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    return sum(float(v) for v in re.findall(rf"(?m)^{re.escape(name)}(?:\{{[^}}]*\}})? (\S+)$", text))


def snapshot(stack: ReferenceStack) -> dict[str, float]:
    proms = list(stack.pool._by_tenant.values())  # every tenant the suite wrote into (isolation checks too)
    loki = stack.backend("loki")
    tempo = stack.backend("tempo")
    pyro = stack.backend("pyroscope")
    with tempo.store.lock:
        spans = sum(1 for t in tempo.store.traces.values() for _ in t.spans())
    return {
        "mimir series": sum(_prom_metric(p.url, "prometheus_tsdb_head_series") for p in proms),
        "mimir samples": sum(_prom_metric(p.url, "prometheus_tsdb_head_samples_appended_total") for p in proms),
        "loki streams": len({(e.tenant, e.labels) for e in list(loki.entries)}),
        "loki lines": len(loki.entries),
        "tempo spans": spans,
        "pyroscope series": len({(r.tenant, tuple(sorted(r.labels.items()))) for r in list(pyro.records)}),
        "pyroscope profiles": len(pyro.records),
    }


def request_bytes(log: Path, offset: int) -> tuple[dict[str, Counter], int]:
    """{service: Counter(bytes, write_bytes, requests)} of the log lines after `offset`."""
    table = routes.load()
    rules = [(routes.alb_pattern_regex(p), r.target_group) for r in table.alb_rules() if r.target_group
             for p in r.paths]
    out: dict[str, Counter] = {}
    data = log.read_bytes()
    for line in data[offset:].decode(errors="replace").splitlines():
        method, request_uri, status, length, sent = line.split(" ")
        uri = request_uri.split("?", 1)[0]
        tg = next((tg for rx, tg in rules if rx.match(uri)), None)
        service = table.target_groups[tg].get("service", tg) if tg else "alb (fixed answers)"
        c = out.setdefault(service, Counter())
        c["requests"] += 1
        c["bytes"] += int(length)
        c["response_bytes"] += int(sent)
        if method == "POST" and uri.endswith(WRITE_PATHS) and status.startswith("2"):  # accepted writes only
            c["write_bytes"] += int(length)
    return out, len(data)


def measure(runs: int) -> tuple[dict[str, float], dict[str, Counter], list[float]]:
    # Alloy scrapes once an hour here: its own writes (every 30 s as shipped) are not the canary's
    with ReferenceStack(tenants=(TENANT,), tempo_search_lag=0.3, access_log=True, alloy_interval=3600) as stack:
        args = ["-m", MARK, "--alb", stack.url, "--tenant", TENANT, "--push-results", *stack.suite_args()]
        work = Path(stack.workdir) / "bench-run"
        work.mkdir()
        warm = run_pytest(args, work, env=stack.suite_env())
        if warm.returncode != 0:
            sys.exit(f"canary_volume: the warm-up run against the reference stack is red:\n{warm.output[-3000:]}")
        time.sleep(1)  # Alloy's first scrape lands before the snapshot, not inside it
        log = stack.access_log
        assert log is not None
        offset = log.stat().st_size
        before = snapshot(stack)
        seconds = []
        for _ in range(runs):
            run = run_pytest(args, work, env=stack.suite_env())
            if run.returncode != 0:
                sys.exit(f"canary_volume: a run against the reference stack is red:\n{run.output[-3000:]}")
            seconds.append(run.seconds)
        after = snapshot(stack)
        by_service, _ = request_bytes(log, offset)
    per_run = {k: (after[k] - before[k]) / runs for k in before}
    for c in by_service.values():
        for k in c:
            c[k] = c[k] / runs  # type: ignore[assignment]
    return per_run, by_service, seconds


def table(per_run: dict[str, float], by_service: dict[str, Counter], seconds: list[float], interval_min: int) -> str:
    per_day = 24 * 60 // interval_min
    lines = [f"Per canary run and per day at one run every {interval_min} min ({per_day} runs a day); "
             f"`python bench/canary_volume.py --runs {len(seconds)}`, mean per run.",
             "",
             "| stored in the stack | per run | per day |", "|---|---:|---:|"]
    for k, v in per_run.items():
        lines.append(f"| {k} | {v:g} | {v * per_day:g} |")
    lines += ["", "| backend (as the ALB routes it) | requests / run | request bytes / run | accepted writes | "
              "response bytes / run | both ways / day |", "|---|---:|---:|---:|---:|---:|"]
    for service, c in sorted(by_service.items()):
        lines.append(f"| {service} | {c['requests']:g} | {c['bytes']:,.0f} | {c['write_bytes']:,.0f} | "
                     f"{c['response_bytes']:,.0f} | {(c['bytes'] + c['response_bytes']) * per_day / 1e6:,.1f} MB |")
    total = sum(c["bytes"] + c["response_bytes"] for c in by_service.values())
    lines += ["", f"Through the ALB, both ways: {total:,.0f} bytes a run, {total * per_day / 1e6:,.1f} MB a day "
              f"({total * per_day * 30 / 1e9:,.2f} GB a 30-day month). "
              f"A run's wall time (`-m \"{MARK}\"`, reference stack): median {statistics.median(seconds):.1f} s "
              f"(min {min(seconds):.1f}, max {max(seconds):.1f})."]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--interval-minutes", type=int, default=5)
    p.add_argument("--write", action="store_true", help="put the table into bench/README.md")
    a = p.parse_args()
    per_run, by_service, seconds = measure(a.runs)
    out = table(per_run, by_service, seconds, a.interval_minutes)
    print(out)
    if a.write:
        readme = REPO / "bench/README.md"
        text = readme.read_text()
        if BEGIN not in text:
            sys.exit(f"canary_volume: {readme} has no {BEGIN} … {END} markers")
        head, rest = text.split(BEGIN, 1)
        readme.write_text(f"{head}{BEGIN}\n{out}\n{END}{rest.split(END, 1)[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
