#!/usr/bin/env python
"""How fast is the verdict? Measured against one local reference stack, in one run.

    python bench/bench.py [--runs 5] [--plugins installed|lgtm-only] [--write] [--aws-endpoint-url URL]

Measures medians of --runs repetitions (interleaved, after one untimed warm-up round):

  floor        `python -m pytest -q -p no:cacheprovider test_empty.py` (one `def test_empty(): pass`)
               in an empty temp dir, with lgtm-smoke installed: its pytest11 entry point loads
               lgtm_smoke.plugin, which imports every check module and their dependencies.
  (1) healthy  `python -m pytest -m "smoke and not aws" --alb <stack> --tenant <t>` wall time
  (2) route    the same with the ALB's Loki rule gone (fault loki-route-404)
  (3) down     the same with Mimir down (fault mimir-down: the ALB answers 502)
  (4) latency  push→visible as the suite reports it (--report-json, per probe) vs the same round
               trip measured here in a tight loop (push, then poll through the ALB every 1 ms)

and prints a Markdown table; --write puts it into bench/README.md between the figures markers
of the --plugins mode. `installed` (default): pytest as it runs here, autoloading every installed
plugin; `lgtm-only`: PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 and `-p lgtm_smoke.plugin` in every command
(floor included) — what a clean `pip install lgtm-smoke` environment runs.
The AWS checks are excluded (`not aws`) unless --aws-endpoint-url (e.g. a moto server) is given.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
TENANT = "lgtm-smoke-bench"
ROUTE_FAULT, DOWN_FAULT = "loki-route-404", "mimir-down"
TARGETS = {"healthy": (2.0, 4.0), "route": (2.5, None), "down": (2.5, None)}
LATENCY_TARGET_MS = 50.0
PLUGIN_MODES = {"installed": "every installed pytest plugin autoloaded",
                "lgtm-only": "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 + -p lgtm_smoke.plugin"}
# probe id -> the direct round trip that mirrors it
DIRECT = {"mimir.remote_write": "mimir", "loki.push_json": "loki-json", "loki.push_protobuf": "loki-protobuf"}


def markers(plugins: str) -> tuple[str, str]:
    return f"<!-- figures:{plugins}:start -->", f"<!-- figures:{plugins}:end -->"


def clean_env(plugins: str) -> dict:
    """The user's environment without settings that would change what is measured."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LGTM_") and k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    if plugins == "lgtm-only":
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return time.perf_counter() - t0, proc


class Bench:
    def __init__(self, stack, runs: int, aws_endpoint: str | None, plugins: str = "installed"):
        self.stack, self.runs, self.aws_endpoint, self.plugins = stack, runs, aws_endpoint, plugins
        self.pytest = [sys.executable, "-m", "pytest"] + (["-p", "lgtm_smoke.plugin"] if plugins == "lgtm-only" else [])
        self.work = Path(tempfile.mkdtemp(prefix="lgtm-bench-"))
        (self.work / "test_empty.py").write_text("def test_empty():\n    pass\n")
        self.env = clean_env(plugins)
        self.env["LGTM_GRAFANA_PASSWORD"] = stack.grafana_password  # not on the command line
        self.env.update(stack.suite_env())  # its CA, edge secret and listener rules
        self.times: dict[str, list[float]] = {}
        self.notes: dict[str, set[str]] = {}
        self.latency: dict[str, list[float]] = {}  # probe id -> suite-reported ms (healthy runs)
        self.direct: dict[str, list[float]] = {}

    # --- the measured commands ------------------------------------------------------------
    def floor(self) -> float:
        wall, proc = timed([*self.pytest, "-q", "-p", "no:cacheprovider", "test_empty.py"], self.work, self.env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return wall

    def floor_parts(self) -> dict[str, float]:
        bare, proc = timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:lgtm_smoke",
                            "test_empty.py"], self.work, self.env)  # -p no:<entry point name> blocks the plugin
        assert proc.returncode == 0, proc.stdout + proc.stderr
        imp, proc = timed([sys.executable, "-c", "import lgtm_smoke.plugin"], self.work, self.env)
        assert proc.returncode == 0, proc.stderr
        return {"bare pytest (-p no:lgtm_smoke)": bare, "python -c 'import lgtm_smoke.plugin'": imp}

    def suite(self, name: str, faults: list[str]) -> float:
        self.stack.set_faults(faults)
        report = self.work / f"report-{name}.json"
        report.unlink(missing_ok=True)
        markexpr = "smoke" if self.aws_endpoint else "smoke and not aws"
        cmd = [*self.pytest, "-m", markexpr, "--alb", self.stack.url, "--tenant", TENANT,
               "-p", "no:cacheprovider", "--report-json", str(report)]
        if self.aws_endpoint:
            cmd += ["--aws-endpoint-url", self.aws_endpoint]
        wall, proc = timed(cmd, self.work, self.env)
        data = json.loads(report.read_text()) if report.exists() else {}
        self.notes.setdefault(name, set()).add(f"exit {proc.returncode}: {data.get('headline', 'no report')}")
        if name == "healthy":
            for check in data.get("checks", []):
                if check.get("probe") in DIRECT and check.get("latency_ms") is not None:
                    self.latency.setdefault(check["probe"], []).append(check["latency_ms"])
        return wall

    # --- read-back latency, measured directly ------------------------------------------------
    def direct_round_trip(self, kind: str, session: requests.Session) -> float:
        """Push one sample/line through the ALB, poll every 1 ms until it reads back; ms."""
        from lgtm_smoke.protocol import loki_push, remote_write

        url, hdr = self.stack.url, {"X-Scope-OrgID": TENANT, "X-LGTM-Edge-Secret": self.stack.edge_secret}
        session.trust_env = False  # REQUESTS_CA_BUNDLE would outrank session.verify
        session.verify = str(self.stack.ca_bundle) if self.stack.ca_bundle else True
        mark = uuid.uuid4().hex[:12]
        if kind == "mimir":
            value = float(int(mark, 16))
            labels = {"__name__": "lgtm_bench_probe", "job": "lgtm-bench"}
            t0 = time.perf_counter()
            ts = int(time.time() * 1000)
            body = remote_write.encode([remote_write.Series(labels, value, ts)])
            r = session.post(f"{url}/api/v1/push", data=body, headers={**hdr, **remote_write.HEADERS}, timeout=10)
            assert r.status_code in (200, 204), r.text
            params = {"query": 'lgtm_bench_probe{job="lgtm-bench"}', "time": f"{ts / 1000:.3f}"}

            def visible() -> bool:
                res = session.get(f"{url}/prometheus/api/v1/query", params=params, headers=hdr, timeout=10).json()
                return bool(res["data"]["result"]) and float(res["data"]["result"][0]["value"][1]) == value
        else:
            fmt = kind.split("-")[1]
            line = f"lgtm-bench probe run={mark}"
            stream = [loki_push.Stream({"job": "lgtm-bench", "check": kind}, [(time.time_ns(), line)])]
            encode, headers = ((loki_push.encode_json, loki_push.JSON_HEADERS) if fmt == "json"
                               else (loki_push.encode_protobuf, loki_push.PROTOBUF_HEADERS))
            t0 = time.perf_counter()
            r = session.post(f"{url}/loki/api/v1/push", data=encode(stream), headers={**hdr, **headers}, timeout=10)
            assert r.status_code in (200, 204), r.text
            now = time.time_ns()
            params = {"query": f'{{job="lgtm-bench", check="{kind}"}} |= "run={mark}"', "limit": "10",
                      "start": str(now - 300 * 10**9), "end": str(now + 60 * 10**9), "direction": "backward"}

            def visible() -> bool:
                res = session.get(f"{url}/loki/api/v1/query_range", params=params, headers=hdr, timeout=10).json()
                return any(v[1] == line for s in res["data"]["result"] for v in s["values"])
        deadline = t0 + 30
        while not visible():
            if time.perf_counter() > deadline:
                raise RuntimeError(f"direct {kind}: not visible after 30 s")
            time.sleep(0.001)
        return (time.perf_counter() - t0) * 1000

    # --- the run -----------------------------------------------------------------------
    def run(self) -> None:
        rounds = [("floor", self.floor), ("healthy", lambda: self.suite("healthy", [])),
                  ("route", lambda: self.suite("route", [ROUTE_FAULT])), ("down", lambda: self.suite("down", [DOWN_FAULT]))]
        for _, fn in rounds:  # warm-up: bytecode caches, the tenant's Prometheus, nginx workers
            fn()
        self.latency.clear()
        self.notes.clear()
        self.parts: dict[str, list[float]] = {}
        for i in range(self.runs):
            for name, fn in rounds:
                self.times.setdefault(name, []).append(fn())
            for k, v in self.floor_parts().items():
                self.parts.setdefault(k, []).append(v)
            print(f"  round {i + 1}/{self.runs}: " + ", ".join(f"{n} {self.times[n][-1]:.2f}s" for n, _ in rounds),
                  file=sys.stderr, flush=True)
        self.stack.set_faults([])
        with requests.Session() as session:
            for kind in DIRECT.values():
                self.direct_round_trip(kind, session)  # warm the connection
                self.direct[kind] = [self.direct_round_trip(kind, session) for _ in range(max(self.runs, 5) * 2)]

    # --- the figures -------------------------------------------------------------------
    def table(self) -> str:
        med = {k: statistics.median(v) for k, v in self.times.items()}
        floor = med["floor"]
        rows = ["| measurement | median | ratio to floor | range (min–max) | target | met | verdict of the timed runs |",
                "|---|---:|---:|---|---|---|---|"]
        rows.append(f"| floor: pytest on an empty test, plugin loaded | {floor:.2f} s | 1.0× | "
                    f"{min(self.times['floor']):.2f}–{max(self.times['floor']):.2f} s | — | — | — |")
        for k, v in self.parts.items():
            rows.append(f"| &nbsp;&nbsp;part: {k} | {statistics.median(v):.2f} s | {statistics.median(v) / floor:.1f}× | "
                        f"{min(v):.2f}–{max(v):.2f} s | — | — | — |")
        labels = {"healthy": "(1) healthy verdict", "route": f"(2) one route broken (`{ROUTE_FAULT}`)",
                  "down": f"(3) one backend down (`{DOWN_FAULT}`)"}
        for name, label in labels.items():
            secs, ratio = TARGETS[name]
            r = med[name] / floor
            ok = med[name] <= secs and (ratio is None or r <= ratio)
            target = f"≤ {secs:.1f} s" + (f" and ≤ {ratio:.0f}× floor" if ratio else "")
            miss = "" if ok else " (" + ", ".join(
                ([f"+{med[name] - secs:.2f} s"] if med[name] > secs else []) +
                ([f"+{r - ratio:.1f}× floor"] if ratio and r > ratio else [])) + ")"
            rows.append(f"| {label} | {med[name]:.2f} s | {r:.1f}× | {min(self.times[name]):.2f}–{max(self.times[name]):.2f} s | "
                        f"{target} | {'yes' if ok else 'NO' + miss} | {'; '.join(sorted(self.notes.get(name, [])))} |")
        rows += ["", "| (4) push→visible | reported by the suite (median) | measured directly (median) | difference | "
                 "target | met |", "|---|---:|---:|---:|---|---|"]
        for probe, kind in DIRECT.items():
            suite = self.latency.get(probe)
            direct = statistics.median(self.direct[kind])
            if not suite:
                rows.append(f"| `{probe}` | — (no latency reported) | {direct:.1f} ms | — | ≤ {LATENCY_TARGET_MS:.0f} ms | NO |")
                continue
            s = statistics.median(suite)
            diff = s - direct
            rows.append(f"| `{probe}` | {s:.1f} ms | {direct:.1f} ms | {diff:+.1f} ms | within {LATENCY_TARGET_MS:.0f} ms | "
                        f"{'yes' if abs(diff) <= LATENCY_TARGET_MS else 'NO'} |")
        return "\n".join(rows)

    def facts(self) -> str:
        try:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                    text=True).stdout.strip()
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                   capture_output=True, text=True).stdout.strip()
        except OSError:
            commit, dirty = "?", ""
        import pytest

        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return (f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.system()} "
                f"{platform.machine()}, nproc {cpus}, Python {platform.python_version()}, pytest {pytest.__version__}, "
                f"commit {commit}{' + uncommitted changes' if dirty else ''}; {self.runs} timed runs each "
                f"(after one warm-up round), plugins: "
                f"{PLUGIN_MODES[self.plugins]}, AWS checks "
                f"{'included (' + self.aws_endpoint + ')' if self.aws_endpoint else 'excluded'}.")


def write_readme(text: str, plugins: str) -> None:
    readme = README.read_text()
    START, END = markers(plugins)
    if START not in readme or END not in readme:
        raise SystemExit(f"{README}: figures markers {START} … {END} not found")
    README.write_text(re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: f"{START}\n{text}\n{END}",
                             readme, flags=re.S))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="timed repetitions of each measurement (≥ 5 for the README)")
    p.add_argument("--write", action="store_true", help="update the figures section of bench/README.md")
    p.add_argument("--plugins", choices=("installed", "lgtm-only"), default="installed",
                   help="installed: pytest autoloads every installed plugin (as `pytest` does here); "
                        "lgtm-only: only lgtm-smoke's")
    p.add_argument("--aws-endpoint-url", help="include the AWS checks, sent to this endpoint (e.g. a seeded moto server)")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be ≥ 1")
    from lgtm_refstack.stack import ReferenceStack

    with ReferenceStack(tenants=(TENANT,)) as stack:
        print(f"reference stack up in {stack.started_in:.2f}s at {stack.url}; {args.runs} runs each…", file=sys.stderr)
        bench = Bench(stack, args.runs, args.aws_endpoint_url, args.plugins)
        bench.run()
        text = bench.facts() + "\n\n" + bench.table()
    print(text)
    if args.write:
        write_readme(text, args.plugins)
        print(f"\nwrote {README.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
