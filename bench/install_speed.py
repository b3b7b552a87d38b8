#!/usr/bin/env python
"""How long the smoke gate's install takes: from the lock (what the gate runs now) against
`pip install .` (what it ran before issue 18), each into a fresh virtual environment, in one run.

    python bench/install_speed.py [--runs 5] [--write]

Each round, interleaved so drift on the machine hits both alike:
  locked   `bash tools/install.sh suite <venv>/bin/python`: uv and setuptools with pip --require-hashes,
           then requirements/suite.txt with uv --require-hashes, then the suite --no-deps
  pip .    `<venv>/bin/python -m pip install .`: resolves the floors of pyproject.toml against today's index
Each into a venv made just before (not timed: setup-python hands the job an interpreter). Both with
warm download caches (uv's, pip's), as the gate's job is with its cache restored; one untimed warm-up
round fills them. The figure is the median over --runs (range shown). Numbers, not tests.
--write puts the table into bench/README.md between the install-speed markers.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- install-speed:begin -->", "<!-- install-speed:end -->"
COMMANDS = {
    "locked (tools/install.sh suite)": lambda py: ["bash", str(REPO / "tools" / "install.sh"), "suite", py],
    "pip install .": lambda py: [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(REPO)],
}


def one(name: str) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        venv = Path(scratch) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        cmd = COMMANDS[name](str(venv / "bin" / "python"))
        start = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=scratch, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="update bench/README.md")
    args = ap.parse_args()
    for name in COMMANDS:  # warm-up: fills the download caches
        one(name)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name in COMMANDS:
            times[name].append(one(name))
    med = {name: statistics.median(t) for name, t in times.items()}
    locked, pip = med["locked (tools/install.sh suite)"], med["pip install ."]
    lines = [f"| install into a fresh venv (median of {args.runs}, warm caches) | median | range |", "|---|---|---|"]
    lines += [f"| {name} | {med[name]:.1f} s | {min(t):.1f}–{max(t):.1f} s |" for name, t in times.items()]
    lines.append(f"| ratio locked / `pip install .` | {locked / pip:.2f}× | |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        readme = REPO / "bench" / "README.md"
        text = readme.read_text()
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        readme.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
