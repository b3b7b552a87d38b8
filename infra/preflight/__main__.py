"""python -m infra.preflight [repo root]: every preflight check on a tree (default: this repository),
one line each, the problems of a failed one below it; exit 1 if any failed."""

from __future__ import annotations

import sys
from pathlib import Path

from . import Infra, problems_of, run_all


def main(argv: list[str]) -> int:
    results = run_all(Infra(argv[0] if argv else Path(__file__).resolve().parents[2]))
    bad = 0
    for name, outcome in results.items():
        print(f"{'FAIL' if not outcome.ok else 'ok  '} {name}")
        for line in problems_of(outcome):
            print(f"     - {line}")
        bad += not outcome.ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
