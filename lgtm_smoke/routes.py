"""The ALB route table (infra/routes.json): one data file for the real ALB (Terraform),
the local ALB stand-in (nginx) and the AWS suite's listener-rule check.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    priority: int
    name: str
    action: str  # "forward" | "deny"
    paths: tuple[str, ...]
    target_group: str | None = None
    rewrite: tuple[str, str] | None = None  # (regex, replace), ALB url-rewrite transform

    def matches(self, path: str) -> bool:
        return any(alb_pattern_regex(p).fullmatch(path) for p in self.paths)


@dataclass
class RouteTable:
    rules: list[Rule]
    default_target_group: str
    target_groups: dict[str, dict]
    listener_port: int = 80

    def route(self, path: str) -> Rule | None:
        """The rule an ALB would pick for `path` (None: the default action)."""
        for rule in sorted(self.rules, key=lambda r: r.priority):
            if rule.matches(path):
                return rule
        return None

    def target_for(self, path: str) -> str | None:
        rule = self.route(path)
        if rule is None:
            return self.default_target_group
        return rule.target_group if rule.action == "forward" else None

    def copy(self) -> "RouteTable":
        return copy.deepcopy(self)


def alb_pattern_regex(pattern: str) -> re.Pattern:
    """ALB path-pattern syntax: '*' matches any run of characters, '?' exactly one."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def default_path() -> Path:
    """infra/routes.json in a checkout; the packaged copy after pip install."""
    repo = Path(__file__).resolve().parent.parent / "infra" / "routes.json"
    if repo.is_file():
        return repo
    return Path(str(resources.files("lgtm_smoke") / "data" / "routes.json"))


def load(path: str | Path | None = None) -> RouteTable:
    data = json.loads(Path(path or default_path()).read_text())
    rules = [
        Rule(
            priority=int(r["priority"]),
            name=r["name"],
            action=r.get("action", "forward"),
            paths=tuple(r["paths"]),
            target_group=r.get("target_group"),
            rewrite=(r["rewrite"]["regex"], r["rewrite"]["replace"]) if r.get("rewrite") else None,
        )
        for r in data["rules"]
    ]
    return RouteTable(
        rules=sorted(rules, key=lambda r: r.priority),
        default_target_group=data["default_target_group"],
        target_groups=data["target_groups"],
        listener_port=data.get("listener", {}).get("port", 80),
    )
