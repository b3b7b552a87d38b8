"""The ALB route table (infra/routes.json): one data file for the real ALB (Terraform),
the local ALB stand-in (nginx) and the AWS suite's listener-rule check.

routes.json is an allow-list: each rule forwards a few push/query/read paths to one
target group; everything else gets `default_action` (a fixed 404 at the ALB). A rule with
`edge_auth` becomes two ALB rules (`RouteTable.alb_rules`): the forward rule, which also
requires the edge-secret header, and at priority + 500 a fixed-response 401 on the same
paths for a request without it.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

# The unauthenticated twin of an edge_auth rule sits this far below it (routes.json _doc).
EDGE_AUTH_PRIORITY_OFFSET = 500


@dataclass(frozen=True)
class Rule:
    priority: int
    name: str
    action: str  # "forward" (routes.json has no deny rules: what is not allowed is the default 404)
    paths: tuple[str, ...]
    target_group: str | None = None
    rewrite: tuple[str, str] | None = None  # (regex, replace), ALB url-rewrite transform
    edge_auth: bool = False  # the forward also requires the edge-secret header

    def matches(self, path: str) -> bool:
        return any(alb_pattern_regex(p).fullmatch(path) for p in self.paths)


@dataclass(frozen=True)
class AlbRule:
    """One listener rule as the ALB holds it (an edge_auth route gives two of these)."""

    priority: int
    name: str
    paths: tuple[str, ...]
    action: str  # "forward" | "fixed-response"
    target_group: str | None = None
    rewrite: tuple[str, str] | None = None
    header: str | None = None  # forward only when this header carries a current edge secret
    status: int | None = None  # fixed-response status
    content_type: str | None = None
    body: str | None = None


@dataclass
class RouteTable:
    rules: list[Rule]
    target_groups: dict[str, dict]
    default_action: dict = field(default_factory=lambda: {"type": "fixed-response", "status": 404,
                                                          "content_type": "text/plain", "body": "not found\n"})
    edge_auth: dict = field(default_factory=dict)
    listeners: dict = field(default_factory=lambda: {"http": {"port": 80, "protocol": "HTTP"}})
    rules_listener: str = "http"

    @property
    def listener_port(self) -> int:
        """Port of the listener that carries the rules (443 once HTTPS is on)."""
        return int(self.listeners[self.rules_listener]["port"])

    def route(self, path: str) -> Rule | None:
        """The rule an ALB would pick for `path` with a valid edge secret (None: the default action)."""
        for rule in sorted(self.rules, key=lambda r: r.priority):
            if rule.matches(path):
                return rule
        return None

    def target_for(self, path: str) -> str | None:
        """Target group `path` reaches with a valid edge secret; None: the ALB answers itself."""
        rule = self.route(path)
        return rule.target_group if rule is not None and rule.action == "forward" else None

    def alb_rules(self) -> list[AlbRule]:
        """The listener rules Terraform makes from this table, by priority."""
        unauth = self.edge_auth.get("unauthenticated") or {}
        out = []
        for r in self.rules:
            out.append(AlbRule(r.priority, r.name, r.paths, r.action, r.target_group, r.rewrite,
                               header=self.edge_auth.get("header") if r.edge_auth else None))
            if r.edge_auth:
                out.append(AlbRule(r.priority + EDGE_AUTH_PRIORITY_OFFSET, f"{r.name}-unauthenticated", r.paths,
                                   "fixed-response", status=int(unauth.get("status", 401)),
                                   content_type=unauth.get("content_type", "text/plain"), body=unauth.get("body", "")))
        return sorted(out, key=lambda a: a.priority)

    def copy(self) -> RouteTable:
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
            edge_auth=bool(r.get("edge_auth", False)),
        )
        for r in data["rules"]
    ]
    return RouteTable(
        rules=sorted(rules, key=lambda r: r.priority),
        target_groups=data["target_groups"],
        default_action=data["default_action"],
        edge_auth=data.get("edge_auth", {}),
        listeners=data["listeners"],
        rules_listener=data["rules_listener"],
    )
