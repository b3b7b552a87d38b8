"""Fixtures shared by the project's own tests."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def contracts() -> dict[str, list[dict]]:
    """../shared/contracts/*.json: exchanges recorded against the real backends."""
    folder = SHARED / "contracts"
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: the contract files sit beside the repo in ../shared/contracts")
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


@pytest.fixture(scope="session")
def aws_account():
    """The reference stack's seeded moto account (lgtm_refstack.aws), ONE per test process:
    moto's backends are process-global, so a second seed in the same process collides with the
    first (EntityAlreadyExists). tests/aws and tests/workflows share it; each test that changes
    it puts it back."""
    from lgtm_refstack.aws import start_account

    account = start_account()
    yield account
    account.close()
