"""Every shipped smoke check has a runbook entry (the verdict links to it by name)."""
import ast
import re

from lgtm_smoke.plugin import SUITE


def smoke_check_names() -> set[str]:
    names = set()
    for path in (p for folder in SUITE for p in folder.rglob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_every_smoke_check_has_a_runbook_entry(repo_root):
    headings = set(re.findall(r"^### (test_\w+)\s*$", (repo_root / "docs/runbook.md").read_text(), re.M))
    checks = smoke_check_names()
    assert checks, "no smoke checks found"
    assert not checks - headings, f"checks without a runbook entry: {sorted(checks - headings)}"
    assert not headings - checks, f"runbook entries for checks that no longer exist: {sorted(headings - checks)}"
