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
