"""The ALB checks as the runner runs them (run_check), on listener-rule files shaped like
the reference stack's and like DescribeRules: each fails on exactly what it checks, with the
cause a person acts on. (The HTTP checks against the live reference stack, with its faults,
are in tests/integration.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from lgtm_smoke.backends.alb import checks
from lgtm_smoke.data import routes
from lgtm_smoke.outcome import Status, run_check

HERE = Path(__file__).parent
SECRET = "do-not-print-me"


@pytest.fixture
def allowlist(monkeypatch):
    table = routes.load(HERE / "routes_allowlist.json")
    monkeypatch.setattr(checks, "_table", lambda: table)
    return table


def ctx_with_rules(tmp_path, table_file: Path, mutate=None, wrap=False):
    table = routes.load(table_file)
    rules = routes.describe_rules(table, [SECRET])
    if mutate:
        mutate(rules)
    path = tmp_path / "listener-rules.json"
    path.write_text(json.dumps({"Rules": rules} if wrap else rules))
    return SimpleNamespace(settings=SimpleNamespace(listener_rules=path), client=None, tenant="t1")


@pytest.mark.parametrize("backend", ["loki", "tempo", "mimir", "pyroscope", "grafana"])
def test_allow_list_keeps_every_admin_route_closed(tmp_path, backend, allowlist):
    out = run_check(checks.closed[backend], ctx_with_rules(tmp_path, HERE / "routes_allowlist.json"))
    assert out.status is Status.PASSED, out.cause
    assert out.data["open"] == [] and out.data["public_paths_evaluated"] >= 5 * 20


def test_tempo_prefix_rewrite_of_everything_fails_naming_shutdown(tmp_path):
    """The issue's hole: /tempo/* rewritten to Tempo (the pre-allow-list table)."""
    out = run_check(checks.closed["tempo"], ctx_with_rules(tmp_path, HERE / "routes_legacy.json", wrap=True))
    assert out.status is Status.FAILED
    assert out.cause.startswith(
        "tempo admin route open through the ALB: /tempo/shutdown → tempo as /shutdown "
        "(rule 31, target group tempo, GET anonymously): any method stops the component"
    )
    assert "+26 more" in out.cause and out.runbook == "alb.admin_closed"
    assert any(line.startswith("/tempo/flush → tempo as /flush") for line in out.evidence)
    assert SECRET not in out.message()


def test_an_edge_auth_rule_widened_to_a_prefix_shows_as_open_with_the_secret(tmp_path, allowlist):
    def widen(rules):
        loki = next(r for r in rules if r["RuleArn"].endswith("/loki-labels"))
        loki["Conditions"][0]["PathPatternConfig"]["Values"] = ["/loki/*"]

    out = run_check(checks.closed["loki"], ctx_with_rules(tmp_path, HERE / "routes_allowlist.json", widen))
    assert out.status is Status.FAILED
    assert "with the edge secret" in out.cause and "/loki/api/v1/delete" in out.message()
    assert "anonymously" not in out.message()  # the +500 twin still refuses anyone without it


def test_default_forwarding_everything_to_grafana_exposes_grafanas_metrics(tmp_path, allowlist):
    def catch_all(rules):
        default = rules[-1]
        default["Actions"] = [{"Type": "forward", "TargetGroupArn": routes.target_group_arn("grafana")}]

    ctx = ctx_with_rules(tmp_path, HERE / "routes_allowlist.json", catch_all)
    out = run_check(checks.closed["grafana"], ctx)
    assert out.status is Status.FAILED and out.cause.startswith(
        "grafana admin route open through the ALB: /metrics → grafana as /metrics (the default action"
    )
    assert run_check(checks.closed["tempo"], ctx).status is Status.PASSED  # grafana is not tempo


def test_no_rules_anywhere_is_blocked_not_failed():
    """--skip-aws and no --listener-rules: nothing to evaluate, said once as its own root cause."""
    ctx = SimpleNamespace(settings=SimpleNamespace(listener_rules=None), client=None, tenant="t1", aws=None)
    out = run_check(checks.closed["tempo"], ctx)
    assert out.status is Status.BLOCKED and out.blocked_by == "alb.listener_rules"
    assert "--listener-rules" in out.cause and "--skip-aws" in out.cause


def test_without_aws_credentials_the_rule_checks_share_the_aws_root_cause():
    from lgtm_smoke.aws.snapshot import Snapshot

    ctx = SimpleNamespace(settings=SimpleNamespace(listener_rules=None), client=None, tenant="t1",
                          aws=Snapshot(blocked="no AWS credentials: configure the standard chain"))
    out = run_check(checks.closed["loki"], ctx)
    assert (out.status, out.blocked_by) == (Status.BLOCKED, "aws.credentials")
    assert out.cause == "no AWS credentials: configure the standard chain"


@pytest.mark.parametrize("table_file, status", [("routes_allowlist.json", Status.PASSED),
                                                ("routes_legacy.json", Status.FAILED)])
def test_without_a_rules_file_the_rules_come_from_the_aws_snapshot(allowlist, table_file, status):
    """On a real deploy (no --listener-rules) the rules are DescribeRules of the rules listener,
    from the run's one AWS snapshot: the allow-list passes, the legacy table's hole fails."""
    from lgtm_smoke.aws.snapshot import Snapshot

    port = allowlist.listener_port
    snap = Snapshot()
    snap.put("alb.listeners", [{"Port": 80, "ListenerArn": "l80"}, {"Port": port, "ListenerArn": "lr"}])
    snap.put("alb.rules", {"lr": routes.describe_rules(routes.load(HERE / table_file), [SECRET]), "l80": []})
    ctx = SimpleNamespace(settings=SimpleNamespace(listener_rules=None), client=None, tenant="t1", aws=snap)
    out = run_check(checks.closed["tempo"], ctx)
    assert out.status is status, out.message()
    if status is Status.PASSED:
        assert out.data["rules_from"] == f"DescribeRules on the port-{port} listener"
    else:
        assert "/tempo/shutdown" in out.cause and f"rules from DescribeRules on the port-{port} listener" in out.evidence


def test_a_broken_rules_file_is_one_line_saying_what_to_pass(tmp_path):
    bad = tmp_path / "rules.json"
    bad.write_text('[{"Priority": "1"}]')
    ctx = SimpleNamespace(settings=SimpleNamespace(listener_rules=bad), client=None, tenant="t1")
    out = run_check(checks.closed["loki"], ctx)
    assert out.status is Status.FAILED and "not a DescribeRules `Rules` list with its default rule" in out.cause


# --- edge auth: telling "refused at the ALB" from "forwarded and rejected" --------------------


@dataclass
class Answer:
    status: int
    text: str

    def preview(self, n=300):
        return self.text.strip()[:n] or "(empty body)"


class ScriptedClient:
    """Answers as a given listener would; records what was sent (never the secret)."""

    def __init__(self, answer):
        self.answer, self.sent = answer, []

    def send_once(self, method, path, **kw):
        assert kw.get("edge_auth") is False and "X-LGTM-Edge-Secret" not in (kw.get("headers") or {})
        self.sent.append((method, path, kw.get("data")))
        return self.answer(method, path)


def edge_ctx(answer):
    return SimpleNamespace(settings=SimpleNamespace(listener_rules=None), client=ScriptedClient(answer), tenant="t1")


def test_edge_auth_passes_on_the_albs_refusal(allowlist):
    un = allowlist.unauthenticated
    ctx = edge_ctx(lambda m, p: Answer(un.status, un.body))
    out = run_check(checks.edge_auth["mimir"], ctx)
    assert out.status is Status.PASSED, out.cause
    assert out.data["write"]["refused_by"] == out.data["read"]["refused_by"] == "alb edge-auth rule"
    assert out.data["authenticated_proof"] == "mimir.remote_write"
    assert [s[:2] for s in ctx.client.sent] == [("POST", "/api/v1/push"), ("GET", "/prometheus/api/v1/query")]


def test_edge_auth_off_and_backend_rejects_says_forwarded(allowlist):
    out = run_check(checks.edge_auth["loki"], edge_ctx(lambda m, p: Answer(400, "error parsing JSON")))
    assert out.status is Status.FAILED
    assert out.cause.startswith(
        "unauthenticated loki write POST /loki/api/v1/push (no X-LGTM-Edge-Secret) → 400 "
        "error parsing JSON: forwarded and rejected by loki itself, not the ALB"
    )


def test_edge_auth_off_and_read_served_says_anyone_can_read(allowlist):
    def answer(m, p):
        return Answer(400, "bad body") if m == "POST" else Answer(200, '{"status":"success"}')

    out = run_check(checks.edge_auth["tempo"], edge_ctx(answer))
    assert out.status is Status.FAILED and "(no X-LGTM-Edge-Secret) → 400" in out.cause  # the write goes first

    out = run_check(checks.edge_auth["mimir"], edge_ctx(lambda m, p: Answer(200, "{}")))
    assert out.cause.endswith("forwarded and served by the backend: anyone on the internet can write to tenant 't1'")


def test_every_edge_probe_body_is_one_the_backend_rejects_or_a_read():
    for backend, probes in checks.EDGE_PROBES.items():
        method, _, body, _, _ = probes["write"]
        assert method == "POST" and body and len(body) < 64, backend
        assert body not in (b"", b"{}"), backend  # an empty push could be accepted as a no-op write
        rmethod, rpath, _, _, _ = probes["read"]
        assert rmethod == "GET" or "Querier" in rpath, backend
