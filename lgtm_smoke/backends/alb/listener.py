"""Evaluate an ALB listener's rules the way the ALB does, without sending a request.

Input: the `Rules` of ELBv2 DescribeRules (from AWS, or the reference stack's
`--listener-rules` file written from the same route table as its nginx.conf). Matching, as
AWS documents it for Application Load Balancers:

- rules in ascending priority, first match wins; the `default` rule last;
- all conditions of a rule must match; within one condition any value may match;
- path-pattern: case-sensitive, `*` any run of characters, `?` exactly one, matched
  against the path only (never the query string); RegexValues as a regular expression;
- http-header: header name and values case-insensitive, with `*`/`?`;
- host-header: case-insensitive, with wildcards; http-request-method: exact, case-sensitive;
  query-string: key/value pairs, case-insensitive, with wildcards;
- the url-rewrite transform runs after the match, on the path the target receives;
- the actions run in `Order`; the last one decides (forward, fixed-response, redirect).

`Request.authenticated` stands for "carries the current edge secret": it satisfies any
http-header condition on the edge header without the suite knowing (or printing) the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ...data.routes import alb_pattern_regex


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    host: str = ""
    query: dict[str, str] = field(default_factory=dict)
    authenticated: bool = False  # carries the edge secret (see module doc)


@dataclass(frozen=True)
class Decision:
    """What the listener does with one request."""

    priority: str  # "10" ... or "default"
    rule_arn: str
    action: str  # "forward" | "fixed-response" | "redirect" | other ALB action types
    target_group_arn: str = ""
    path: str = ""  # the path the target receives (after url-rewrite)
    status: int | None = None  # fixed-response / redirect status
    body: str = ""
    redirect: dict[str, Any] = field(default_factory=dict)
    rewritten: bool = False

    @property
    def forwards(self) -> bool:
        return self.action == "forward"

    @property
    def rule(self) -> str:
        return "the default action" if self.priority == "default" else f"rule {self.priority}"


def wildcard_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    return alb_pattern_regex(pattern, 0 if case_sensitive else re.IGNORECASE).fullmatch(value) is not None


def _values(cond: dict, config_key: str) -> list:
    cfg = cond.get(config_key) or {}
    return list(cfg.get("Values") or cond.get("Values") or [])


def condition_matches(cond: dict, req: Request, edge_header: str | None) -> bool:
    field_ = cond.get("Field")
    if field_ == "path-pattern":
        cfg = cond.get("PathPatternConfig") or {}
        if cfg.get("RegexValues"):
            return any(re.search(rx, req.path) for rx in cfg["RegexValues"])
        return any(wildcard_match(v, req.path) for v in _values(cond, "PathPatternConfig"))
    if field_ == "http-header":
        cfg = cond.get("HttpHeaderConfig") or {}
        name = (cfg.get("HttpHeaderName") or "").lower()
        if req.authenticated and edge_header and name == edge_header.lower():
            return True
        got = {k.lower(): v for k, v in req.headers.items()}.get(name)
        if got is None:
            return False
        if cfg.get("RegexValues"):
            return any(re.search(rx, got) for rx in cfg["RegexValues"])
        return any(wildcard_match(v, got, case_sensitive=False) for v in cfg.get("Values") or [])
    if field_ == "host-header":
        cfg = cond.get("HostHeaderConfig") or {}
        if cfg.get("RegexValues"):
            return any(re.search(rx, req.host, re.IGNORECASE) for rx in cfg["RegexValues"])
        return any(wildcard_match(v, req.host, case_sensitive=False) for v in _values(cond, "HostHeaderConfig"))
    if field_ == "http-request-method":
        return req.method in _values(cond, "HttpRequestMethodConfig")
    if field_ == "query-string":
        pairs = (cond.get("QueryStringConfig") or {}).get("Values") or []
        q = {k.lower(): v for k, v in req.query.items()}
        return any(
            (p.get("Key") is None and any(wildcard_match(p["Value"], v, False) for v in q.values()))
            or (
                p.get("Key") is not None
                and p["Key"].lower() in q
                and wildcard_match(p.get("Value", "*"), q[p["Key"].lower()], False)
            )
            for p in pairs
        )
    if field_ == "source-ip":
        return False  # the suite's requests come from outside every allowed CIDR it could name
    raise ValueError(f"unknown ALB rule condition field {field_!r}")


def _priority_key(rule: dict) -> tuple[int, int]:
    p = str(rule.get("Priority", "default"))
    return (1, 0) if rule.get("IsDefault") or p == "default" else (0, int(p))


def _rewrite(rule: dict, path: str) -> tuple[str, bool]:
    for t in rule.get("Transforms") or []:
        if t.get("Type") != "url-rewrite":
            continue
        for rw in (t.get("UrlRewriteConfig") or {}).get("Rewrites") or []:
            rx = re.compile(rw["Regex"])
            if rx.search(path):
                replace = re.sub(r"\$(\d+)", r"\\\1", rw["Replace"])
                return rx.sub(replace, path, count=1), True
    return path, False


def _decision(rule: dict, is_default: bool, req: Request) -> Decision | None:
    """What a matching rule does with `req` (None: a rule without actions, which never decides)."""
    actions = sorted(rule.get("Actions") or [], key=lambda a: a.get("Order", 0))
    if not actions:
        return None
    act = actions[-1]
    prio = "default" if is_default else str(rule.get("Priority"))
    arn = rule.get("RuleArn", "")
    kind = act.get("Type", "")
    if kind == "forward":
        tg = act.get("TargetGroupArn") or next(
            (
                g["TargetGroupArn"]
                for g in (act.get("ForwardConfig") or {}).get("TargetGroups") or []
                if g.get("Weight", 1) > 0
            ),
            "",
        )
        path, rewritten = _rewrite(rule, req.path)
        return Decision(prio, arn, kind, target_group_arn=tg, path=path, rewritten=rewritten)
    if kind == "fixed-response":
        cfg = act.get("FixedResponseConfig") or {}
        return Decision(prio, arn, kind, status=int(cfg.get("StatusCode", 0)), body=cfg.get("MessageBody", ""))
    if kind == "redirect":
        cfg = act.get("RedirectConfig") or {}
        return Decision(
            prio,
            arn,
            kind,
            status=int(str(cfg.get("StatusCode", "HTTP_301")).removeprefix("HTTP_")),
            redirect=dict(cfg),
        )
    return Decision(prio, arn, kind)


Matcher = Callable[[Request], bool]


def _matcher(cond: dict, edge_header: str | None) -> Matcher:
    """One condition as a predicate; the common plain path-pattern compiled up front."""
    cfg = cond.get("PathPatternConfig") or {}
    if cond.get("Field") == "path-pattern" and not cfg.get("RegexValues"):
        values = _values(cond, "PathPatternConfig")
        if not values:
            return lambda req: False
        # any value may match: one alternation, one regex call per rule
        pattern = re.compile("|".join(f"(?:{alb_pattern_regex(v).pattern})" for v in values))
        return lambda req: pattern.fullmatch(req.path) is not None
    return lambda req: condition_matches(cond, req, edge_header)


class Listener:
    """A listener's rules sorted and compiled once, for asking many questions: the exposure
    catalogue asks ~5,000 per run (every admin route × public prefix × method × edge secret or
    not), which rule by rule took seconds of the suite's CPU. Answers exactly as `evaluate`."""

    def __init__(self, rules: list[dict], edge_header: str | None = None):
        self.edge_header = edge_header
        self._rules = [
            (rule, is_default, [] if is_default else [_matcher(c, edge_header) for c in rule.get("Conditions") or []])
            for rule in sorted(rules, key=_priority_key)
            for is_default in [_priority_key(rule)[0] == 1]
        ]
        self._answers: dict[tuple, Decision] = {}
        fields = {c.get("Field") for rule in rules for c in rule.get("Conditions") or []}
        self._by_method = "http-request-method" in fields  # else every method gets the same answer

    def decide(self, req: Request) -> Decision:
        key = (req.method if self._by_method else "", req.path, req.host, req.authenticated,
               tuple(sorted(req.headers.items())), tuple(sorted(req.query.items())))
        if key not in self._answers:
            self._answers[key] = self._decide(req)
        return self._answers[key]

    def _decide(self, req: Request) -> Decision:
        for rule, is_default, matchers in self._rules:
            if all(m(req) for m in matchers):
                decision = _decision(rule, is_default, req)
                if decision is not None:
                    return decision
        raise ValueError("listener has no default rule: DescribeRules always returns one; is this the whole listener?")


def evaluate(rules: list[dict], req: Request, edge_header: str | None = None) -> Decision:
    """The decision the listener makes for `req` (see the module doc for the semantics)."""
    return Listener(rules, edge_header).decide(req)


def target_group_name(arn: str) -> str:
    """`arn:...:targetgroup/<name>/<id>` -> `<name>` (a bare name passes through)."""
    m = re.search(r"targetgroup/([^/]+)/", arn)
    return m.group(1) if m else arn


def route_key(arn: str, keys: list[str]) -> str | None:
    """The routes.json target-group key an ARN belongs to (`<stack>-<key>` in Terraform)."""
    name = target_group_name(arn)
    for key in sorted(keys, key=len, reverse=True):
        if name == key or name.endswith("-" + key):
            return key
    return None
