"""infra/routes.json has one reader, lgtm_smoke.data.routes, below both halves: the suite's ALB
checks, its AWS listener-rule check and the reference stack hold the same table type, read from
the same file, and what the stack writes as its listener rules evaluates, in the suite's own
ALB evaluator, to what the table says."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgtm_smoke.aws import settings as aws_settings
from lgtm_smoke.backends.alb import checks, listener
from lgtm_smoke.data import routes

REPO = Path(__file__).resolve().parents[2]
SECRET = "edge-secret-for-the-seam"


def test_the_packaged_table_is_infra_routes_json():
    assert routes.default_path().read_text() == (REPO / "infra" / "routes.json").read_text()


def test_the_suite_and_the_reference_stack_read_the_same_table():
    from lgtm_refstack import nginx, stack

    assert checks.routes is aws_settings.routes_mod is stack.routes_mod is routes
    assert nginx.AlbRule is routes.AlbRule
    base = stack.ReferenceStack().base_routes
    assert type(base) is routes.RouteTable and base == routes.load()


def sample_paths(table: routes.RouteTable) -> list[str]:
    paths = [p.replace("*", "x1").replace("?", "y") for r in table.rules for p in r.paths]
    return [*paths, "/flush", "/tempo/shutdown", "/metrics", "/no/such/path"]


@pytest.mark.parametrize("authenticated", [True, False], ids=["with-edge-secret", "without"])
def test_the_described_rules_evaluate_to_the_tables_own_choice(authenticated):
    """describe_rules (the stack's listener-rules file, the suite's test fixtures) and
    RouteTable.listener_rule (what nginx is held to) are one reading of the table."""
    table = routes.load()
    described = routes.describe_rules(table, [SECRET], stack="lgtm-refstack")
    headers = {table.edge_header: SECRET} if authenticated and table.edge_header else {}
    for path in sample_paths(table):
        want = table.listener_rule(path, authenticated=authenticated)
        got = listener.evaluate(described, listener.Request("GET", path, headers=headers), table.edge_header)
        assert got.rule_arn.endswith("/" + want.name), path
        if want.fixed is not None:
            assert (got.status, got.body) == (want.fixed.status, want.fixed.body), path
        else:
            key = listener.route_key(got.target_group_arn, list(table.target_groups))
            assert got.forwards and key == want.target_group, path


def test_one_pattern_syntax_for_the_table_and_the_evaluator():
    assert listener.wildcard_match("/loki/*", "/loki/api") and routes.Rule(1, "r", ("/loki/*",)).matches("/loki/api")
    assert not listener.wildcard_match("/a?c", "/ac") and not routes.Rule(1, "r", ("/a?c",)).matches("/ac")
