"""The shipped infra/ passes every preflight check."""

from __future__ import annotations

import pytest

from infra.preflight import checks

pytestmark = pytest.mark.preflight


@pytest.mark.parametrize("name", sorted(checks.CHECKS))
def test_shipped_tree_passes(shipped_results, name):
    outcome = shipped_results[name]
    assert outcome.ok, f"{name}:\n  " + "\n  ".join(checks.problems_of(outcome))


def test_every_check_is_a_preflight_check():
    """One check shape: each is an outcome.Check of kind preflight, id preflight.<name>."""
    from lgtm_smoke.outcome import Check

    for name, check in checks.CHECKS.items():
        assert isinstance(check, Check) and check.kind == "preflight" and check.id == f"preflight.{name}", name


def test_a_check_that_cannot_read_its_inputs_fails_naming_why(tmp_path):
    (tmp_path / "infra").mkdir()
    outcome = checks.run_all(checks.Infra(tmp_path))["fargate_cpu_memory_valid"]
    assert not outcome.ok and outcome.cause.startswith("fargate_cpu_memory_valid could not run: FileNotFoundError")


def test_every_check_cites_its_incident():
    """Each check's docstring names the seed episode (a date) or the issue it prevents."""
    import re

    for name, check in checks.CHECKS.items():
        doc = check.doc
        assert re.search(r"20\d\d-\d\d-\d\d|[Ii]ssue \d+", doc) or "backend-api" in doc, f"check {name} cites no incident"


def test_every_check_has_a_broken_fixture():
    from .test_broken_fixtures import BROKEN

    covered = {case[0] for case in BROKEN}
    assert covered == set(checks.CHECKS), f"checks without a failing fixture: {sorted(set(checks.CHECKS) - covered)}"
