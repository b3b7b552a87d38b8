"""What the shipped Alloy config makes Alloy send about itself (collector.json, package data:
the installed plugin has no infra/; tests/alloy prove it matches infra/images/alloy/config.alloy)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    return json.loads((resources.files("lgtm_smoke.backends.alloy") / "collector.json").read_text())
