"""The ALB route table (infra/routes.json): one data file for the real ALB (Terraform), the
reference stack's nginx and the AWS suite's listener-rule check.

The table is an allow-list: each rule forwards a few path patterns (ALB syntax: `*`, `?`,
case-sensitive, path only) to a target group; a rule with `"edge_auth": true` becomes two ALB
rules, the forward rule that also requires the edge-secret header and, at priority + 500, a
fixed response refusing the same paths without it; everything else falls to the default
action (a fixed 404 at the ALB). `describe_rules` renders the table exactly as Terraform
builds the listener, in ELBv2 DescribeRules shape, so the rule evaluator can be held to it.

(The pre-allow-list shape, with deny rules and a default target group, still loads while
the other rooms move to the new one.)
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
    action: str  # "forward" ("deny" only in the pre-allow-list shape)
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
    default_action: dict = field(
        default_factory=lambda: {
            "type": "fixed-response",
            "status": 404,
            "content_type": "text/plain",
            "body": "not found\n",
        }
    )
    edge_auth: dict = field(default_factory=dict)
    listeners: dict = field(default_factory=lambda: {"http": {"port": 80, "protocol": "HTTP"}})
    rules_listener: str = "http"
    default_target_group: str | None = None  # pre-allow-list shape only

    @property
    def listener_port(self) -> int:
        """Port of the listener that carries the rules (443 once HTTPS is on)."""
        return int(self.listeners[self.rules_listener]["port"])

    @property
    def edge_header(self) -> str | None:
        return self.edge_auth.get("header")

    def route(self, path: str) -> Rule | None:
        """The rule an ALB would pick for `path` with a valid edge secret (None: the default action)."""
        for rule in sorted(self.rules, key=lambda r: r.priority):
            if rule.matches(path):
                return rule
        return None

    def target_for(self, path: str) -> str | None:
        """Target group `path` reaches with a valid edge secret; None: the ALB answers itself."""
        rule = self.route(path)
        if rule is None:
            return self.default_target_group
        return rule.target_group if rule.action == "forward" else None

    def alb_rules(self) -> list[AlbRule]:
        """The listener rules Terraform makes from this table, by priority."""
        unauth = self.edge_auth.get("unauthenticated") or {}
        out = []
        for r in self.rules:
            if r.action != "forward":  # pre-allow-list deny rule
                out.append(
                    AlbRule(
                        r.priority,
                        r.name,
                        r.paths,
                        "fixed-response",
                        status=403,
                        content_type="text/plain",
                        body="403 Forbidden: blocked at the load balancer\n",
                    )
                )
                continue
            out.append(
                AlbRule(
                    r.priority,
                    r.name,
                    r.paths,
                    r.action,
                    r.target_group,
                    r.rewrite,
                    header=self.edge_auth.get("header") if r.edge_auth else None,
                )
            )
            if r.edge_auth:
                out.append(
                    AlbRule(
                        r.priority + EDGE_AUTH_PRIORITY_OFFSET,
                        f"{r.name}-unauthenticated",
                        r.paths,
                        "fixed-response",
                        status=int(unauth.get("status", 401)),
                        content_type=unauth.get("content_type", "text/plain"),
                        body=unauth.get("body", ""),
                    )
                )
        return sorted(out, key=lambda a: a.priority)

    def copy(self) -> RouteTable:
        return copy.deepcopy(self)


def alb_pattern_regex(pattern: str) -> re.Pattern:
    """ALB path-pattern syntax: '*' matches any run of characters, '?' exactly one."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def default_path() -> Path:
    """infra/routes.json in a checkout; the packaged copy after pip install."""
    repo = Path(__file__).resolve().parents[3] / "infra" / "routes.json"
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
            edge_auth=bool(r.get("edge_auth")),
        )
        for r in data["rules"]
    ]
    table = RouteTable(
        rules=sorted(rules, key=lambda r: r.priority),
        target_groups=data["target_groups"],
        edge_auth=data.get("edge_auth", {}),
        listeners=data.get("listeners") or {"http": data.get("listener", {"port": 80, "protocol": "HTTP"})},
        rules_listener=data.get("rules_listener", "http"),
        default_target_group=data.get("default_target_group"),
    )
    if "default_action" in data:
        table.default_action = data["default_action"]
    elif table.default_target_group:
        table.default_action = {"type": "forward", "target_group": table.default_target_group}
    return table


def _tg_arn(key: str, prefix: str) -> str:
    return f"arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/{prefix}{key}/0000000000000000"


def _fixed(status: int, body: str, content_type: str = "text/plain") -> dict:
    return {
        "Type": "fixed-response",
        "Order": 1,
        "FixedResponseConfig": {"StatusCode": str(status), "ContentType": content_type, "MessageBody": body},
    }


def describe_rules(table: RouteTable, secrets: list[str], tg_prefix: str = "lgtm-prod-") -> list[dict]:
    """The listener's rules as Terraform creates them, in DescribeRules `Rules` shape.
    `secrets`: the header values the forward rules accept (current, and previous in a rotation)."""
    out = []
    for r in table.alb_rules():
        conds = [{"Field": "path-pattern", "PathPatternConfig": {"Values": list(r.paths)}}]
        rule = {
            "RuleArn": f"arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/lgtm/0/0/{r.name}",
            "Priority": str(r.priority),
            "Conditions": conds,
            "IsDefault": False,
        }
        if r.action == "forward":
            if r.header:
                conds.append(
                    {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": r.header, "Values": list(secrets)}}
                )
            rule["Actions"] = [
                {"Type": "forward", "Order": 1, "TargetGroupArn": _tg_arn(r.target_group or "", tg_prefix)}
            ]
            if r.rewrite:
                rule["Transforms"] = [
                    {
                        "Type": "url-rewrite",
                        "UrlRewriteConfig": {"Rewrites": [{"Regex": r.rewrite[0], "Replace": r.rewrite[1]}]},
                    }
                ]
        else:
            rule["Actions"] = [_fixed(r.status or 0, r.body or "", r.content_type or "text/plain")]
        out.append(rule)
    d = table.default_action
    if d.get("type") == "forward":
        default = [{"Type": "forward", "Order": 1, "TargetGroupArn": _tg_arn(d["target_group"], tg_prefix)}]
    else:
        default = [_fixed(int(d.get("status", 404)), d.get("body", ""), d.get("content_type", "text/plain"))]
    out.append(
        {
            "RuleArn": "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/lgtm/0/0/default",
            "Priority": "default",
            "Conditions": [],
            "Actions": default,
            "IsDefault": True,
        }
    )
    return out
