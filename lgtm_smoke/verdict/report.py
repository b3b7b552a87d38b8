"""The verdict: what each check did, as a terminal table, Markdown and JSON.

Records are built from each check's Outcome (status, cause, evidence, blocked by, push ok,
read-back ok, push→visible latency) and pytest's report of the test. The headline names the
root causes first — each failed precondition and how many checks it blocked — then the
checks that failed on their own; each links to its runbook entry.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..outcome import NOT_WAITED

AREAS = ("mimir", "loki", "tempo", "pyroscope", "grafana", "alloy", "alb", "security", "aws", "preflight")
RUNBOOK = "docs/runbook.md"
MARKS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "blocked": "BLOCK"}
MD_MARKS = {"passed": "✅", "failed": "❌", "error": "❌", "blocked": "⛔", "skipped": "⏭️"}


@dataclass
class CheckRecord:
    check: str  # the test id a person reads: file::test
    name: str
    backend: str
    outcome: str  # passed | failed | error | blocked | skipped
    cause: str = ""
    push_ok: bool | None = None
    read_ok: bool | None = None
    latency_ms: float | None = None
    duration_ms: float = 0.0
    probe: str | None = None
    blocked_by: str | None = None  # the precondition id when outcome is "blocked"
    evidence: list[str] = field(default_factory=list)  # further lines: the check's own, then the AWS side

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
    anchor = name.lower()  # GitHub keeps underscores and hyphens in heading anchors
    repo, sha = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_SHA")
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    if repo and sha:
        return f"{server}/{repo}/blob/{sha}/{RUNBOOK}#{anchor}"
    return f"{RUNBOOK}#{anchor}"


def precondition_entry(pid: str) -> str:
    """The runbook heading of a precondition: `precondition-alb`, `precondition-target_group`, …"""
    return "precondition-" + pid.split(".")[0] if pid.startswith("target_group.") else \
        "precondition-" + pid.replace(".", "_")


@dataclass
class RootCause:
    precondition: str
    cause: str
    blocked: list[CheckRecord]

    @property
    def short(self) -> str:
        """The cause as the headline shows it: its first clause."""
        text = re.sub(r"\s*\([^()]*\)$", "", self.cause.split(" — ")[0]).strip()  # drop a trailing "(why…)"
        if self.precondition.startswith("aws."):  # "no AWS credentials: configure …" → "AWS: no credentials"
            return "AWS: " + text.split(": ")[0].replace("AWS ", "", 1)
        return text

    @property
    def evidence(self) -> list[str]:
        return self.blocked[0].evidence if self.blocked else []


def root_causes(records: list[CheckRecord]) -> list[RootCause]:
    roots: dict[str, RootCause] = {}
    for r in records:
        if r.outcome == "blocked" and r.blocked_by:
            roots.setdefault(r.blocked_by, RootCause(r.blocked_by, r.cause, [])).blocked.append(r)
    return sorted(roots.values(), key=lambda rc: -len(rc.blocked))


def verdict(records: list[CheckRecord]) -> tuple[bool, str]:
    ran = [r for r in records if r.outcome != "skipped"]
    if not ran:
        return False, "NO VERDICT: no check ran"
    parts = [f"{rc.short} — {len(rc.blocked)} check{'s' if len(rc.blocked) != 1 else ''} blocked"
             for rc in root_causes(records)]
    failed = [r for r in ran if r.outcome in ("failed", "error")]
    if failed:
        by: dict[str, int] = {}
        for r in failed:
            by[r.backend] = by.get(r.backend, 0) + 1
        where = ", ".join(f"{b} {n}" for b, n in sorted(by.items()))
        parts.append(f"{len(failed)} of {len(ran)} checks failed ({where})")
    if parts:
        # checks that stopped waiting because the verdict was already red: not verified this run
        unverified = sum(1 for r in records if r.outcome == "skipped" and r.cause.startswith(NOT_WAITED))
        if unverified:
            parts.append(f"{unverified} not waited for")
        return False, "RED: " + " · ".join(parts)
    return True, f"GREEN: all {len(ran)} checks passed"


def _fmt_bool(v: bool | None) -> str:
    return "—" if v is None else ("ok" if v else "FAIL")


def _fmt_ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} ms"


def _area_order(area: str) -> int:
    return AREAS.index(area) if area in AREAS else 99


def ordered(records: list[CheckRecord]) -> list[CheckRecord]:
    return sorted(records, key=lambda r: (r.ok, _area_order(r.backend), r.name))


def _rows(records: list[CheckRecord]) -> list[tuple[str, CheckRecord]]:
    """(shown name, record) per table row, failures first: parametrized variants that passed, or
    were blocked by the same precondition, fold into one row ("test_x [17 passed]")."""
    rows: list[tuple[str, CheckRecord]] = []
    folded: dict[tuple[Any, ...], int] = {}
    ran = [r for r in records if r.outcome != "skipped"]
    for r in ran:
        if "[" in r.name and r.outcome in ("passed", "blocked"):
            key = (r.backend, r.name.split("[")[0], r.outcome, r.blocked_by)
            folded[key] = folded.get(key, 0) + 1
    done: set[tuple[Any, ...]] = set()
    for r in sorted(ran, key=lambda r: (r.ok, r.outcome != "blocked", r.name)):
        key = (r.backend, r.name.split("[")[0], r.outcome, r.blocked_by)
        if key in folded:
            if key in done:
                continue
            done.add(key)
            rows.append((f"{key[1]} [{folded[key]} {r.outcome}]", r))
        else:
            rows.append((r.name, r))
    return rows


def terminal_lines(records: list[CheckRecord], meta: dict[str, Any]) -> list[str]:
    """The headline with the target, then per area: push, read-back, push→visible latency, or
    the cause (a blocked check: one line naming its precondition); then the root causes and the
    headline again, last: a red run's table can be 70 rows, and what an on-call engineer sees
    when the run ends is its last screen, which must name the causes, not list symptoms."""
    ok, headline = verdict(records)
    lines = [f"{headline} · {meta.get('target', '')}"]
    rows = _rows(records)
    width = max([len(name) for name, r in rows] + [5])
    for area in sorted({r.backend for r in records}, key=_area_order):
        mine = [r for r in records if r.backend == area]
        skipped = [r for r in mine if r.outcome == "skipped"]
        note = f" ({len(skipped)} skipped: {skipped[0].cause})" if skipped else ""
        lines.append(f"  {area}{note}")
        for name, r in (row for row in rows if row[1].backend == area):
            if r.outcome == "blocked":
                lines.append(f"    {MARKS[r.outcome]:5} {name:{width}}  blocked by {r.blocked_by}")
                continue
            probe = (f"push {_fmt_bool(r.push_ok):4}  read {_fmt_bool(r.read_ok):4}  {_fmt_ms(r.latency_ms):>7}"
                     if r.push_ok is not None else " " * 31)
            tail = f"  {r.cause}" if r.cause else ""
            lines.append(f"    {MARKS[r.outcome]:5} {name:{width}}  {probe}{tail}".rstrip())
            if r.outcome in ("failed", "error"):
                lines.extend(f"          {e}" for e in r.evidence)
    for rc in root_causes(records):
        lines.append(f"  root cause [{rc.precondition}]: {rc.cause}  (runbook: {RUNBOOK}#{precondition_entry(rc.precondition)})")
        lines.extend(f"      {e}" for e in rc.evidence)
    lines.append(f"verdict: {headline}")  # again at the bottom, where the eye lands
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(records: list[CheckRecord], meta: dict[str, Any]) -> str:
    """Root causes with their runbook entries first, then each failing check with its
    evidence, then the passing table folded."""
    ok, headline = verdict(records)
    out = [f"## {'✅' if ok else '❌'} LGTM smoke — {headline}", "", f"{meta.get('target', '')}", ""]
    roots = root_causes(records)
    if roots:
        out += ["### Root causes", ""]
        for rc in roots:
            names = ", ".join(f"`{r.name}`" for r in rc.blocked[:8]) + (" …" if len(rc.blocked) > 8 else "")
            out.append(f"- **{_cell(rc.cause)}** ([runbook]({runbook_link(precondition_entry(rc.precondition))})) — "
                       f"{len(rc.blocked)} checks blocked: {names}")
            out += [f"  - {_cell(e)}" for e in rc.evidence]
        out.append("")
    failing = [r for r in ordered(records) if r.outcome in ("failed", "error")]
    if failing:
        out += ["### Failing checks", ""]
        for r in failing:
            out.append(f"- ❌ **{r.backend}** `{r.name}`: {_cell(r.cause)} ([runbook]({runbook_link(r.name)}))")
            out += [f"  - {_cell(e)}" for e in r.evidence]
        out.append("")
    rest = [r for r in ordered(records) if r.outcome not in ("failed", "error")]
    if rest:
        passed = sum(1 for r in rest if r.outcome == "passed")
        out += [f"<details><summary>{passed} passed · {len(rest) - passed} blocked or skipped</summary>", "",
                "| | backend | check | push | read-back | push→visible | note |", "|---|---|---|---|---|---|---|"]
        for r in rest:
            note = f"blocked by {r.blocked_by}" if r.outcome == "blocked" else _cell(r.cause)
            out.append(f"| {MD_MARKS[r.outcome]} | {r.backend} | `{r.name}` | {_fmt_bool(r.push_ok)} | "
                       f"{_fmt_bool(r.read_ok)} | {_fmt_ms(r.latency_ms)} | {note} |")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def json_report(records: list[CheckRecord], meta: dict[str, Any]) -> str:
    ok, headline = verdict(records)
    roots = [{"precondition": rc.precondition, "cause": rc.cause, "blocked": len(rc.blocked)}
             for rc in root_causes(records)]
    return json.dumps({**meta, "verdict": "pass" if ok else "fail", "headline": headline, "root_causes": roots,
                       "checks": [asdict(r) for r in ordered(records)]}, indent=2) + "\n"


def write(path: str | Path, text: str, append: bool = False) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        f.write(text)
