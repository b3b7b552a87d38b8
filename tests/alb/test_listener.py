"""The listener evaluator matches as an ALB does (AWS's documented semantics), and the
Terraform-shaped rules rendered from routes.json do what routes.json says."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgtm_smoke.backends.alb.listener import (
    Request,
    evaluate,
    route_key,
    target_group_name,
)
from lgtm_smoke.data import routes

ALLOWLIST = Path(__file__).with_name("routes_allowlist.json")
TG = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/lgtm-prod-{}/abc/"
SECRET = "s3cr3t-value"


def rule(prio, paths, tg=None, fixed=None, header=None, rewrite=None, method=None):
    conds = [{"Field": "path-pattern", "PathPatternConfig": {"Values": paths}}]
    if header:
        conds.append({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": header[0], "Values": header[1]}})
    if method:
        conds.append({"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": method}})
    act = (
        {"Type": "forward", "TargetGroupArn": TG.format(tg)}
        if tg
        else {
            "Type": "fixed-response",
            "FixedResponseConfig": {"StatusCode": str(fixed), "MessageBody": f"fixed {fixed}"},
        }
    )
    r = {"RuleArn": f"arn:rule/{prio}", "Priority": str(prio), "Conditions": conds, "Actions": [act]}
    if rewrite:
        r["Transforms"] = [
            {"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": rewrite[0], "Replace": rewrite[1]}]}}
        ]
    return r


DEFAULT = {
    "RuleArn": "arn:rule/default",
    "Priority": "default",
    "IsDefault": True,
    "Conditions": [],
    "Actions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "MessageBody": "nope"}}],
}


def test_ascending_priority_first_match_wins_whatever_the_list_order():
    rules = [DEFAULT, rule(20, ["/loki/*"], tg="loki"), rule(5, ["/loki/api/v1/delete"], fixed=403)]
    assert evaluate(rules, Request("GET", "/loki/api/v1/delete")).status == 403
    d = evaluate(rules, Request("GET", "/loki/api/v1/query"))
    assert (d.priority, d.action, target_group_name(d.target_group_arn)) == ("20", "forward", "lgtm-prod-loki")


@pytest.mark.parametrize(
    "path, hit",
    [
        ("/Loki/api/v1/query", False),  # case-sensitive
        ("/loki/api/v1/query", True),
        ("/loki/api/v1/queryX", False),  # no implicit prefix match
        ("/loki/api/v2/query", True),  # '?' is exactly one character
        ("/loki/api/v10/query", False),
    ],
)
def test_path_pattern_is_case_sensitive_with_question_mark_one_char(path, hit):
    rules = [rule(1, ["/loki/api/v?/query"], tg="loki"), DEFAULT]
    assert evaluate(rules, Request("GET", path)).forwards is hit


def test_star_crosses_slashes_and_the_query_string_is_never_matched():
    rules = [rule(1, ["/tempo/api/traces/*"], tg="tempo"), DEFAULT]
    assert evaluate(rules, Request("GET", "/tempo/api/traces/a/b/c")).forwards
    # the path is "/tempo/api/search"; "?x=/tempo/api/traces/1" is the query, not the path
    assert not evaluate(rules, Request("GET", "/tempo/api/search", query={"x": "/tempo/api/traces/1"})).forwards


def test_http_header_condition_name_and_value_case_insensitive():
    rules = [rule(1, ["/api/v1/push"], tg="mimir", header=("X-LGTM-Edge-Secret", [SECRET])), DEFAULT]
    assert evaluate(rules, Request("POST", "/api/v1/push", headers={"x-lgtm-edge-secret": SECRET.upper()})).forwards
    assert not evaluate(rules, Request("POST", "/api/v1/push", headers={"X-LGTM-Edge-Secret": "wrong"})).forwards
    assert not evaluate(rules, Request("POST", "/api/v1/push")).forwards
    # "carries the edge secret" without the suite knowing it
    assert evaluate(rules, Request("POST", "/api/v1/push", authenticated=True), edge_header="X-LGTM-Edge-Secret").forwards


def test_method_condition_is_exact():
    rules = [rule(1, ["/x"], tg="grafana", method=["GET"]), DEFAULT]
    assert evaluate(rules, Request("GET", "/x")).forwards
    assert not evaluate(rules, Request("get", "/x")).forwards
    assert not evaluate(rules, Request("POST", "/x")).forwards


def test_url_rewrite_applies_after_matching_to_the_forwarded_path():
    rules = [
        rule(31, ["/tempo/*"], tg="tempo", rewrite=("^/tempo/(.*)$", "/$1")),
        rule(40, ["/shutdown"], fixed=403),
        DEFAULT,
    ]
    d = evaluate(rules, Request("OPTIONS", "/tempo/shutdown"))
    assert (d.forwards, d.path, d.rewritten, d.rule) == (True, "/shutdown", True, "rule 31")


def test_default_rule_catches_the_rest_and_a_listener_without_one_is_refused():
    assert evaluate([DEFAULT], Request("GET", "/anything")).rule == "the default action"
    with pytest.raises(ValueError, match="no default rule"):
        evaluate([rule(1, ["/x"], tg="loki")], Request("GET", "/y"))


def test_route_key_prefers_the_longest_target_group_key():
    keys = ["tempo", "tempo-otlp", "grafana"]
    assert route_key(TG.format("tempo-otlp"), keys) == "tempo-otlp"
    assert route_key(TG.format("tempo"), keys) == "tempo"
    assert route_key(TG.format("other"), keys) is None


def test_terraform_shaped_rules_of_the_allow_list_do_what_routes_json_says():
    table = routes.load(ALLOWLIST)
    rules = routes.describe_rules(table, [SECRET, "previous"])
    header = table.edge_header
    unauth = table.unauthenticated
    for r in table.rules:
        for pattern in r.paths:
            path = pattern.replace("*", "x1").replace("?", "y")
            with_secret = evaluate(rules, Request("GET", path, headers={header: SECRET}))
            anonymous = evaluate(rules, Request("GET", path))
            assert (
                with_secret.forwards and route_key(with_secret.target_group_arn, list(table.target_groups)) == r.target_group
            ), path
            assert with_secret.path == (path[len("/tempo") :] if r.rewrite else path)
            if r.edge_auth:
                assert (anonymous.action, anonymous.status, anonymous.body) == (
                    "fixed-response",
                    unauth.status,
                    unauth.body,
                )
                assert anonymous.priority == str(r.priority + routes.EDGE_AUTH_PRIORITY_OFFSET)
                assert evaluate(rules, Request("GET", path, headers={header: "previous"})).forwards  # rotation
            else:
                assert anonymous.forwards  # Grafana: its own login
    for unknown in ("/flush", "/tempo/shutdown", "/tempo/metrics", "/metrics", "/loki/api/v1/delete"):
        d = evaluate(rules, Request("GET", unknown, headers={header: SECRET}))
        assert (d.rule, d.status) == ("the default action", table.default.fixed.status), unknown
