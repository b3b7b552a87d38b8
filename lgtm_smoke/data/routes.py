"""infra/routes.json, the ALB's route table, read once for both halves that must agree with it.

Terraform builds the real ALB from the file (infra/terraform/modules/alb reads it in HCL). In
Python this module is its only reader: the smoke suite's ALB checks and AWS listener-rule check
use it, and so does the reference stack (lgtm_refstack builds nginx.conf and its listener-rules
file from it). Each side keeps only its own work: the suite evaluates DescribeRules
(`backends/alb/listener.py`); the stack renders nginx (`lgtm_refstack/nginx.py`) and edits a
copy of the table for its faults. This module sits below both and imports only the standard
library.

The table is an allow-list. Each rule forwards a few path patterns (ALB syntax: `*`, `?`,
case-sensitive, path only) to a target group and may rewrite the URL; every other path gets the
default action (a fixed 404 at the ALB). A rule with `"edge_auth": true` becomes two listener
rules, the way Terraform makes them (`RouteTable.alb_rules`): the forward rule, which also
requires the edge-secret header, and at priority + 500 a fixed response that refuses the same
paths without it. `describe_rules` writes those rules in the shape ELBv2 DescribeRules returns.

(The pre-allow-list shape, with deny rules and a default target group, still loads; a deny
rule is a fixed 403.)
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The unauthenticated twin of an edge_auth rule sits this far below it (routes.json _doc).
EDGE_AUTH_PRIORITY_OFFSET = 500
# The account and region of the ARNs describe_rules makes up (no real resource has them).
REGION, ACCOUNT = "us-east-1", "000000000000"


@dataclass(frozen=True)
class FixedResponse:
    status: int
    content_type: str
    body: str


# What a deny rule of the pre-allow-list shape answered.
DENIED = FixedResponse(403, "text/plain", "403 Forbidden: blocked at the load balancer\n")


@dataclass(frozen=True)
class _PathRule:
    """What a routes.json rule and a listener rule have in common: path patterns whose requests
    either go to a target group (maybe rewritten) or get a fixed response."""

    priority: int
    name: str
    paths: tuple[str, ...]
    target_group: str | None = None  # forward rules
    fixed: FixedResponse | None = None  # fixed-response rules
    rewrite: tuple[str, str] | None = None  # (regex, replace): the ALB url-rewrite transform

    @property
    def forwards(self) -> bool:
        return self.fixed is None

    def matches(self, path: str) -> bool:
        return any(alb_pattern_regex(p).fullmatch(path) for p in self.paths)


@dataclass(frozen=True)
class Rule(_PathRule):
    """One rule of routes.json."""

    edge_auth: bool = False  # the forward also requires the edge-secret header


@dataclass(frozen=True)
class AlbRule(_PathRule):
    """One listener rule as the ALB holds it. An edge_auth rule gives two of them, and the
    listener's default action is one with priority 0 and no paths."""

    header: str | None = None  # forward only when this header carries a current edge secret


@dataclass
class RouteTable:
    """routes.json, read. Not frozen: the reference stack's faults edit a copy (`copy`)."""

    rules: list[Rule]  # by priority
    target_groups: dict[str, dict[str, Any]]  # key -> {service, port, health_check}
    default: AlbRule  # the listener's default action
    listeners: dict[str, dict[str, Any]]  # name -> {port, protocol, ssl_policy | redirect_to}
    rules_listener: str  # the listener the rules are on
    edge_header: str | None = None  # None: routes.json has no edge_auth
    unauthenticated: FixedResponse = FixedResponse(401, "text/plain", "")  # what an edge_auth twin answers

    @property
    def listener_port(self) -> int:
        """Port of the listener that carries the rules (443 once HTTPS is on)."""
        return int(self.listeners[self.rules_listener]["port"])

    @property
    def http_redirects(self) -> bool:
        """The plain-HTTP listener redirects (to the rules listener) instead of serving the rules."""
        return bool(self.listeners.get("http", {}).get("redirect_to"))

    def route(self, path: str) -> Rule | None:
        """The rule an ALB picks for `path` with a valid edge secret (None: the default action)."""
        return next((rule for rule in sorted(self.rules, key=lambda r: r.priority) if rule.matches(path)), None)

    def target_for(self, path: str) -> str | None:
        """Target group `path` reaches with a valid edge secret; None: the ALB answers itself."""
        rule = self.route(path)
        return (self.default if rule is None else rule).target_group

    def alb_rules(self) -> list[AlbRule]:
        """The listener rules Terraform makes from this table, by priority."""
        out = []
        for r in self.rules:
            header = self.edge_header if r.edge_auth else None
            out.append(AlbRule(r.priority, r.name, r.paths, r.target_group, r.fixed, r.rewrite, header=header))
            if r.edge_auth:
                out.append(AlbRule(r.priority + EDGE_AUTH_PRIORITY_OFFSET, f"{r.name}-unauthenticated", r.paths,
                                   fixed=self.unauthenticated))
        return sorted(out, key=lambda a: a.priority)

    def listener_rule(self, path: str, authenticated: bool) -> AlbRule:
        """The listener rule an ALB picks for a request to `path`, which carries a current edge
        secret or not (the default action when no rule matches)."""
        for rule in self.alb_rules():
            if rule.matches(path) and (authenticated or rule.header is None):
                return rule
        return self.default

    def copy(self) -> RouteTable:
        return copy.deepcopy(self)


@functools.lru_cache(maxsize=4096)
def alb_pattern_regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """ALB wildcard syntax (path patterns; header and host values with re.IGNORECASE): '*'
    matches any run of characters, '?' exactly one."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), flags)


def default_path() -> Path:
    """The packaged routes.json: a link to infra/routes.json in a checkout, a copy once built."""
    return Path(__file__).with_name("routes.json")


def _fixed(spec: dict[str, Any], status: int) -> FixedResponse:
    return FixedResponse(int(spec.get("status", spec.get("status_code", status))),
                         spec.get("content_type", "text/plain"), spec.get("body", ""))


def _rule(r: dict[str, Any]) -> Rule:
    action = r.get("action", "forward")
    fixed = None
    if action == "deny":
        fixed = DENIED
    elif action == "fixed-response":
        fixed = _fixed(r.get("fixed_response", r), 404)
    rw = r.get("rewrite")
    return Rule(int(r["priority"]), r["name"], tuple(r["paths"]), r.get("target_group") if fixed is None else None,
                fixed, (rw["regex"], rw["replace"]) if rw else None, bool(r.get("edge_auth")))


def _default(data: dict[str, Any]) -> AlbRule:
    d = data.get("default_action")
    if d is None and data.get("default_target_group"):  # the deny-list shape: unmatched paths went to Grafana
        d = {"type": "forward", "target_group": data["default_target_group"]}
    if d is None:
        return AlbRule(0, "default", (), fixed=FixedResponse(404, "text/plain", "not found\n"))
    if d.get("type") == "forward":
        return AlbRule(0, "default", (), target_group=d["target_group"])
    return AlbRule(0, "default", (), fixed=_fixed(d, 404))


def load(path: str | Path | None = None) -> RouteTable:
    data = json.loads(Path(path or default_path()).read_text())
    edge = data.get("edge_auth") or {}
    return RouteTable(
        rules=sorted((_rule(r) for r in data["rules"]), key=lambda r: r.priority),
        target_groups=data["target_groups"],
        default=_default(data),
        listeners=data.get("listeners") or {"http": data.get("listener", {"port": 80, "protocol": "HTTP"})},
        rules_listener=data.get("rules_listener", "http"),
        edge_header=edge.get("header"),
        unauthenticated=_fixed(edge.get("unauthenticated") or {}, 401),
    )


# --- the listener as DescribeRules returns it ----------------------------------------------------
def target_group_arn(key: str, stack: str = "lgtm-prod") -> str:
    """The ARN of target group `key` (Terraform names it `<stack>-<key>`)."""
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{stack}-{key}/0123456789abcdef"


def _actions(rule: AlbRule, stack: str) -> list[dict[str, Any]]:
    if rule.fixed is not None:
        f = rule.fixed
        return [{"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {
            "StatusCode": str(f.status), "ContentType": f.content_type, "MessageBody": f.body}}]
    arn = target_group_arn(rule.target_group or "", stack)
    return [{"Type": "forward", "Order": 1, "TargetGroupArn": arn, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}}]


def describe_rules(table: RouteTable, edge_secrets: Sequence[str], stack: str = "lgtm-prod") -> list[dict[str, Any]]:
    """The listener's rules as ELBv2 DescribeRules returns them (`Rules`), the default rule last.
    `edge_secrets`: the header values the forward rules accept (current, and the previous one
    during a rotation); `stack`: the `<project>-<environment>` prefix of the resource names."""
    listener_rule = (f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/{stack}-alb/"
                     "0123456789abcdef/fedcba9876543210")
    out = []
    for r in [*table.alb_rules(), table.default]:
        conditions: list[dict[str, Any]] = []
        if r is not table.default:
            conditions.append({"Field": "path-pattern", "Values": list(r.paths),
                               "PathPatternConfig": {"Values": list(r.paths)}})
        if r.header:
            conditions.append({"Field": "http-header", "HttpHeaderConfig": {
                "HttpHeaderName": r.header, "Values": list(edge_secrets)}})
        rule: dict[str, Any] = {
            "RuleArn": f"{listener_rule}/{r.name}",
            "Priority": "default" if r is table.default else str(r.priority),
            "Conditions": conditions,
            "Actions": _actions(r, stack),
            "IsDefault": r is table.default,
        }
        if r.rewrite:
            rule["Transforms"] = [{"Type": "url-rewrite", "UrlRewriteConfig": {
                "Rewrites": [{"Regex": r.rewrite[0], "Replace": r.rewrite[1]}]}}]
        out.append(rule)
    return out
