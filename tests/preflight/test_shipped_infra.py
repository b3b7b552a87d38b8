"""The shipped infra/ passes every preflight check; each check has its place (its module, the
package docstring's table, broken fixtures beside it)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import infra.preflight
from infra.preflight import CHECKS, MODULE_OF, Infra, problems_of, run_all

pytestmark = pytest.mark.preflight

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_shipped_tree_passes(shipped_results, name):
    outcome = shipped_results[name]
    assert outcome.ok, f"{name}:\n  " + "\n  ".join(problems_of(outcome))


def test_every_check_is_a_preflight_check():
    """One check shape: each is an outcome.Check of kind preflight, id preflight.<name>."""
    from lgtm_smoke.outcome import Check

    for name, check in CHECKS.items():
        assert isinstance(check, Check) and check.kind == "preflight" and check.id == f"preflight.{name}", name


def test_a_check_that_cannot_read_its_inputs_fails_naming_why(tmp_path):
    (tmp_path / "infra").mkdir()
    outcome = run_all(Infra(tmp_path))["fargate_cpu_memory_valid"]
    assert not outcome.ok and outcome.cause.startswith("fargate_cpu_memory_valid could not run: FileNotFoundError")


def test_every_check_cites_its_incident():
    """Each check's docstring names the seed episode (a date) or the issue it prevents."""
    for name, check in CHECKS.items():
        doc = check.doc
        assert re.search(r"20\d\d-\d\d-\d\d|[Ii]ssue \d+", doc) or "backend-api" in doc, f"check {name} cites no incident"


def fixture_modules() -> dict[str, list]:
    """{concern module: its BROKEN fixtures} from every tests/preflight/test_<module>.py that has them."""
    out = {}
    for path in sorted(HERE.glob("test_*.py")):
        module = importlib.import_module(f".{path.stem}", __package__)
        if hasattr(module, "BROKEN"):
            out[path.stem.removeprefix("test_")] = module.BROKEN
    return out


def test_every_check_has_a_broken_fixture():
    covered = {case[0] for cases in fixture_modules().values() for case in cases}
    assert covered == set(CHECKS), f"checks without a failing fixture: {sorted(set(CHECKS) - covered)}"


def test_each_checks_fixtures_live_beside_its_module():
    """tests/preflight/test_<module>.py breaks only the checks of infra/preflight/<module>.py."""
    strays = [f"test_{module}.py: {case[0]} lives in {MODULE_OF[case[0]]}.py"
              for module, cases in fixture_modules().items() for case in cases if MODULE_OF[case[0]] != module]
    assert not strays, strays


def docstring_table(doc: str) -> dict[str, str]:
    """{check: module} from the check table of infra/preflight/__init__.py's docstring."""
    return dict(re.findall(r"^\| (\w+) \| `(\w+)\.py` \|$", doc, re.MULTILINE))


def table_mismatches(doc: str) -> list[str]:
    table = docstring_table(doc)
    return ([f"{name}: in {MODULE_OF[name]}.py, the table says {table.get(name, 'nothing')}"
             for name in sorted(CHECKS) if table.get(name) != MODULE_OF[name]]
            + [f"{name}: in the table, but no such check" for name in sorted(set(table) - set(CHECKS))])


def test_the_package_docstring_says_which_module_holds_each_check():
    assert not table_mismatches(infra.preflight.__doc__ or ""), table_mismatches(infra.preflight.__doc__ or "")


def test_a_stale_table_row_is_caught():
    doc = infra.preflight.__doc__ or ""
    moved = doc.replace("| iam_least_privilege | `iam.py` |", "| iam_least_privilege | `workflows.py` |")
    dropped = doc.replace("| bucket_versioning | `storage.py` |\n", "")
    assert table_mismatches(moved) == ["iam_least_privilege: in iam.py, the table says workflows"]
    assert table_mismatches(dropped) == ["bucket_versioning: in storage.py, the table says nothing"]


def test_copied_tree_passes_before_mutation(tree):
    """The copy itself is clean, so each failure of a broken fixture comes from its one edit."""
    results = run_all(tree.infra())
    assert all(o.ok for o in results.values()), {k: o.message() for k, o in results.items() if not o.ok}
