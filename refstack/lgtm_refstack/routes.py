"""The ALB's route table as the reference stack reads it from `infra/routes.json`, and the
*effective* listener rules an ALB would hold for it.

`routes.json` is an allow-list (rules forward, everything else falls to the fixed 404 of
`default_action`). A rule with `"edge_auth": true` becomes two ALB rules, as the Terraform
module makes them: the forward rule (paths AND the edge-secret header) and, at priority + 500,
a fixed-response rule (paths only) answering `edge_auth.unauthenticated`. Both nginx.conf and
the `listener_rules` file the suite reads (shaped like ELBv2 DescribeRules `Rules`) are
rendered from `AlbRule`s, so what the stack does and what it says it does are one list.

The reference stack does not import lgtm_smoke's own reader: it is a separate distribution.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

EDGE_AUTH_OFFSET = 500  # the fixed-response twin of an edge_auth rule sits at priority + 500
REGION, ACCOUNT = "us-east-1", "000000000000"


@dataclass(frozen=True)
class FixedResponse:
    status: int
    content_type: str
    body: str


@dataclass(frozen=True)
class Rule:
    """One rule of routes.json."""

    priority: int
    name: str
    paths: tuple[str, ...]
    target_group: str | None = None        # forward rules
    fixed: FixedResponse | None = None     # fixed-response rules
    rewrite: tuple[str, str] | None = None  # (regex, replace): the ALB url-rewrite transform
    edge_auth: bool = False

    def matches(self, path: str) -> bool:
        return any(alb_pattern_regex(p).fullmatch(path) for p in self.paths)


@dataclass(frozen=True)
class AlbRule:
    """One listener rule as an ALB holds it: conditions (paths, optionally a header) and one action."""

    priority: int
    name: str
    paths: tuple[str, ...]
    target_group: str | None = None
    fixed: FixedResponse | None = None
    rewrite: tuple[str, str] | None = None
    header: tuple[str, tuple[str, ...]] | None = None  # (name, accepted values)


@dataclass
class RouteTable:
    rules: list[Rule]
    default: Rule                      # priority 0 placeholder: the listener's default action
    target_groups: dict[str, dict]
    https_port: int = 443
    http_redirects: bool = True
    ssl_policy: str = ""
    edge_header: str = "X-LGTM-Edge-Secret"
    unauthenticated: FixedResponse = field(default_factory=lambda: FixedResponse(401, "text/plain", "401\n"))

    def copy(self) -> RouteTable:
        return copy.deepcopy(self)

    def alb_rules(self, edge_secrets: tuple[str, ...]) -> list[AlbRule]:
        """The listener's rules by priority; `edge_secrets` are the header values accepted
        (current, and the previous one during a rotation)."""
        out = []
        for r in self.rules:
            base = AlbRule(r.priority, r.name, r.paths, r.target_group, r.fixed, r.rewrite)
            if r.edge_auth:
                out.append(replace(base, header=(self.edge_header, tuple(edge_secrets))))
                out.append(AlbRule(r.priority + EDGE_AUTH_OFFSET, f"{r.name}-unauthenticated", r.paths,
                                   fixed=self.unauthenticated))
            else:
                out.append(base)
        return sorted(out, key=lambda a: a.priority)

    def route(self, path: str, headers: dict[str, str], edge_secrets: tuple[str, ...]) -> AlbRule:
        """The rule an ALB picks for a request (the default action when none matches)."""
        lower = {k.lower(): v for k, v in headers.items()}
        for rule in self.alb_rules(edge_secrets):
            if not any(alb_pattern_regex(p).fullmatch(path) for p in rule.paths):
                continue
            if rule.header and lower.get(rule.header[0].lower()) not in rule.header[1]:
                continue
            return rule
        d = self.default
        return AlbRule(0, "default", (), d.target_group, d.fixed)


def alb_pattern_regex(pattern: str) -> re.Pattern:
    """ALB path-pattern syntax: '*' matches any run of characters, '?' exactly one."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def default_path() -> Path:
    """infra/routes.json of the checkout this package sits in; else the copy lgtm-smoke ships."""
    repo = Path(__file__).resolve().parents[2] / "infra" / "routes.json"
    if repo.is_file():
        return repo
    from importlib import resources

    return Path(str(resources.files("lgtm_smoke") / "data" / "routes.json"))


def _fixed(spec: dict) -> FixedResponse:
    return FixedResponse(int(spec.get("status", spec.get("status_code", 404))),
                         spec.get("content_type", "text/plain"), spec.get("body", ""))


def _rule(r: dict) -> Rule:
    action = r.get("action", "forward")
    fixed = None
    if action == "deny":  # the deny-list format before the allow-list: 403 at the load balancer
        fixed = FixedResponse(403, "text/plain", "403 Forbidden: blocked at the load balancer\n")
    elif action == "fixed-response":
        fixed = _fixed(r.get("fixed_response", r))
    rw = r.get("rewrite")
    return Rule(int(r["priority"]), r["name"], tuple(r["paths"]), r.get("target_group") if fixed is None else None,
                fixed, (rw["regex"], rw["replace"]) if rw else None, bool(r.get("edge_auth")))


def load(path: str | Path | None = None) -> RouteTable:
    data = json.loads(Path(path or default_path()).read_text())
    rules = sorted((_rule(r) for r in data["rules"]), key=lambda r: r.priority)
    if "default_action" in data:
        d = data["default_action"]
        default = (Rule(0, "default", (), target_group=d["target_group"]) if d.get("type") == "forward"
                   else Rule(0, "default", (), fixed=_fixed(d)))
    else:  # the deny-list format: everything unmatched went to Grafana
        default = Rule(0, "default", (), target_group=data["default_target_group"])
    listeners = data.get("listeners", {})
    https = listeners.get(data.get("rules_listener", "https"), {})
    http = listeners.get("http", data.get("listener", {}))
    edge = data.get("edge_auth", {})
    table = RouteTable(rules, default, data["target_groups"], https_port=int(https.get("port", 443)),
                       http_redirects=bool(http.get("redirect_to")) or not listeners,
                       ssl_policy=https.get("ssl_policy", ""))
    if edge:
        table.edge_header = edge.get("header", table.edge_header)
        if edge.get("unauthenticated"):
            table.unauthenticated = _fixed(edge["unauthenticated"])
    return table


def describe_rules(alb_rules: list[AlbRule], default: Rule, name: str = "lgtm-refstack") -> list[dict]:
    """The rules as ELBv2 DescribeRules returns them (`Rules`), default rule last."""
    lb = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
    listener = f"{lb}:listener/app/{name}-alb/0123456789abcdef/fedcba9876543210"

    def actions(tg: str | None, fixed: FixedResponse | None) -> list[dict]:
        if fixed is not None:
            return [{"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {
                "StatusCode": str(fixed.status), "ContentType": fixed.content_type, "MessageBody": fixed.body}}]
        arn = f"{lb}:targetgroup/{name}-{tg}/0123456789abcdef"
        return [{"Type": "forward", "Order": 1, "TargetGroupArn": arn, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": arn, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": False}}}]

    out = []
    for i, r in enumerate(alb_rules):
        conditions = [{"Field": "path-pattern", "Values": list(r.paths),
                       "PathPatternConfig": {"Values": list(r.paths)}}]
        if r.header:
            conditions.append({"Field": "http-header", "HttpHeaderConfig": {
                "HttpHeaderName": r.header[0], "Values": list(r.header[1])}})
        rule = {"RuleArn": f"{listener.replace(':listener/', ':listener-rule/')}/{i:016x}", "Priority": str(r.priority),
                "Conditions": conditions, "Actions": actions(r.target_group, r.fixed), "IsDefault": False}
        if r.rewrite:
            rule["Transforms"] = [{"Type": "url-rewrite", "UrlRewriteConfig": {
                "Rewrites": [{"Regex": r.rewrite[0], "Replace": r.rewrite[1]}]}}]
        out.append(rule)
    out.append({"RuleArn": f"{listener.replace(':listener/', ':listener-rule/')}/default", "Priority": "default",
                "Conditions": [], "Actions": actions(default.target_group, default.fixed), "IsDefault": True})
    return out
