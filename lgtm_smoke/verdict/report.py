"""The verdict: what each check did, as a terminal table, Markdown and JSON.

Records are built from pytest's reports plus each probe's outcome (push ok, read-back ok,
push→visible latency). Failing checks come first; each links to its runbook entry.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

AREAS = ("mimir", "loki", "tempo", "pyroscope", "grafana", "security", "aws")
RUNBOOK = "docs/runbook.md"


@dataclass
class CheckRecord:
    check: str  # the test id a person reads: file::test
    name: str
    backend: str
    outcome: str  # passed | failed | error | skipped
    cause: str = ""
    push_ok: bool | None = None
    read_ok: bool | None = None
    latency_ms: float | None = None
    duration_ms: float = 0.0
    probe: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("passed", "skipped")


def first_line(text: str) -> str:
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith(("Failed:", "E ")):
            return line
        if line.startswith("Failed: "):
            return line[len("Failed: "):]
    return ""


def runbook_link(name: str) -> str:
    anchor = name.lower()  # GitHub keeps underscores in heading anchors
    repo, sha = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_SHA")
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    if repo and sha:
        return f"{server}/{repo}/blob/{sha}/{RUNBOOK}#{anchor}"
    return f"{RUNBOOK}#{anchor}"


def verdict(records: list[CheckRecord]) -> tuple[bool, str]:
    failed = [r for r in records if not r.ok]
    ran = [r for r in records if r.outcome != "skipped"]
    if not ran:
        return False, "NO VERDICT: no check ran"
    if failed:
        by = {}
        for r in failed:
            by[r.backend] = by.get(r.backend, 0) + 1
        where = ", ".join(f"{b} {n}" for b, n in sorted(by.items()))
        return False, f"RED: {len(failed)} of {len(ran)} checks failed ({where})"
    return True, f"GREEN: all {len(ran)} checks passed"


def _fmt_bool(v: bool | None) -> str:
    return "—" if v is None else ("ok" if v else "FAIL")


def _fmt_ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} ms"


def ordered(records: list[CheckRecord]) -> list[CheckRecord]:
    return sorted(records, key=lambda r: (r.ok, AREAS.index(r.backend) if r.backend in AREAS else 99, r.name))


def terminal_lines(records: list[CheckRecord], meta: dict) -> list[str]:
    """Verdict first, then per backend: push, read-back, push→visible latency, or the cause."""
    ok, headline = verdict(records)
    lines = [f"{headline} · {meta.get('target', '')}"]
    width = max([len(r.name) for r in records if r.outcome != "skipped" and not (r.ok and "[" in r.name)] + [5])
    areas = sorted({r.backend for r in records}, key=lambda a: AREAS.index(a) if a in AREAS else 99)
    for area in areas:
        mine = [r for r in records if r.backend == area]
        skipped = [r for r in mine if r.outcome == "skipped"]
        note = f" ({len(skipped)} skipped: {skipped[0].cause})" if skipped else ""
        lines.append(f"  {area}{note}")
        ran = [r for r in mine if r.outcome != "skipped"]
        variants: dict[str, int] = {}
        for r in ran:  # passing parametrized variants fold into one line
            if r.ok and "[" in r.name:
                variants[r.name.split("[")[0]] = variants.get(r.name.split("[")[0], 0) + 1
        for r in sorted(ran, key=lambda r: (r.ok, r.name)):
            base = r.name.split("[")[0]
            if r.ok and base in variants:
                if variants[base] is None:
                    continue
                name, variants[base] = f"{base} [{variants[base]} passed]", None
            else:
                name = r.name
            mark = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}[r.outcome]
            probe = (f"push {_fmt_bool(r.push_ok):4}  read {_fmt_bool(r.read_ok):4}  {_fmt_ms(r.latency_ms):>7}"
                     if r.push_ok is not None else " " * 31)
            tail = f"  {r.cause}" if r.cause else ""
            lines.append(f"    {mark:5} {name:{width}}  {probe}{tail}".rstrip())
    lines.append(f"verdict: {headline}")  # again at the bottom, where the eye lands
    return lines


def markdown(records: list[CheckRecord], meta: dict) -> str:
    ok, headline = verdict(records)
    icon = "✅" if ok else "❌"
    out = [f"## {icon} LGTM smoke — {headline}", "",
           f"{meta.get('target', '')}", "",
           "| | backend | check | push | read-back | push→visible | cause |",
           "|---|---|---|---|---|---|---|"]
    for r in ordered(records):
        mark = {"passed": "✅", "failed": "❌", "error": "❌", "skipped": "⏭️"}[r.outcome]
        cause = r.cause.replace("|", "\\|")
        if not r.ok:
            cause = f"{cause} ([runbook]({runbook_link(r.name)}))"
        out.append(f"| {mark} | {r.backend} | `{r.name}` | {_fmt_bool(r.push_ok)} | {_fmt_bool(r.read_ok)} | "
                   f"{_fmt_ms(r.latency_ms)} | {cause} |")
    return "\n".join(out) + "\n"


def json_report(records: list[CheckRecord], meta: dict) -> str:
    ok, headline = verdict(records)
    return json.dumps({**meta, "verdict": "pass" if ok else "fail", "headline": headline,
                       "checks": [asdict(r) for r in ordered(records)]}, indent=2) + "\n"


def write(path: str | Path, text: str, append: bool = False) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        f.write(text)
