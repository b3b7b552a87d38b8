"""The shipped infra/ passes every preflight check."""

from __future__ import annotations

import pytest

from infra.preflight import checks

pytestmark = pytest.mark.preflight


@pytest.mark.parametrize("name", sorted(checks.CHECKS))
def test_shipped_tree_passes(shipped_results, name):
    problems = shipped_results[name]
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_every_check_cites_its_incident():
    """Each check's docstring names the seed episode (a date) or the issue it prevents."""
    import re

    for name, fn in checks.CHECKS.items():
        doc = fn.__doc__ or ""
        assert re.search(r"20\d\d-\d\d-\d\d|[Ii]ssue \d+", doc) or "backend-api" in doc, f"check {name} cites no incident"


def test_every_check_has_a_broken_fixture():
    from .test_broken_fixtures import BROKEN

    covered = {case[0] for case in BROKEN}
    assert covered == set(checks.CHECKS), f"checks without a failing fixture: {sorted(set(checks.CHECKS) - covered)}"
