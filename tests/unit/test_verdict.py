"""The verdict's headline names the root causes with their blocked counts, then the checks
that failed on their own; Markdown leads with root causes, then failures with evidence, then
the passing table folded."""
from __future__ import annotations

from lgtm_smoke.verdict.report import CheckRecord, markdown, terminal_lines, verdict

ALB_DOWN = "ALB 127.0.0.1:1 refuses connections (nothing listens there: wrong --alb port, or the listener is down)"
NO_AWS = "no AWS credentials: configure the standard chain (env, profile, OIDC role) or pass --skip-aws"


def blocked(name: str, area: str, pid: str, cause: str) -> CheckRecord:
    return CheckRecord(f"f::{name}", name, area, "blocked", cause, blocked_by=pid)


def test_dead_alb_and_dead_aws_credentials_are_two_root_causes():
    records = [blocked(f"test_h{i}", "mimir", "alb", ALB_DOWN) for i in range(51)]
    records += [blocked(f"test_a{i}", "aws", "aws.credentials", NO_AWS) for i in range(24)]
    assert verdict(records) == (False, "RED: ALB 127.0.0.1:1 refuses connections — 51 checks blocked · "
                                       "AWS: no credentials — 24 checks blocked")


def test_a_dead_backend_is_its_target_group_then_what_failed_on_its_own():
    cause = "target group mimir: GET /prometheus/api/v1/status/buildinfo → 502 after 3 attempts: HTML page '502 Bad Gateway'"
    records = [blocked(f"test_m{i}", "mimir", "target_group.mimir", cause + " — the ALB reached no running target")
               for i in range(5)]
    records += [CheckRecord("f::test_ds", "test_ds", "mimir", "failed", "health: datasource 'Mimir' → 502"),
                CheckRecord("f::test_ok", "test_ok", "loki", "passed")]
    ok, headline = verdict(records)
    assert not ok and headline == f"RED: {cause} — 5 checks blocked · 1 of 7 checks failed (mimir 1)"
    lines = terminal_lines(records, {"target": "ALB x"})
    assert lines[0].startswith(headline) and lines[-1] == f"verdict: {headline}"
    # the root causes sit right above the closing headline, below the table: the last screen names them
    assert lines[-2].startswith("  root cause [target_group.mimir]: target group mimir:")
    assert not any(line.startswith("  root cause") for line in lines[:-2])
    assert "    BLOCK test_m0" in "\n".join(lines) and "blocked by target_group.mimir" in "\n".join(lines)


def test_markdown_leads_with_root_causes_then_failures_with_evidence_then_the_folded_table():
    records = [blocked("test_m", "mimir", "target_group.mimir", "target group mimir: GET /x → 502")]
    records += [CheckRecord("f::test_ds", "test_ds", "mimir", "failed", "health → 502",
                            evidence=["AWS: target 10.0.1.5:9009 unhealthy (Target.FailedHealthChecks)"]),
                CheckRecord("f::test_ok", "test_ok", "loki", "passed")]
    md = markdown(records, {"target": "ALB x"})
    roots, failing, table = md.index("### Root causes"), md.index("### Failing checks"), md.index("<details>")
    assert roots < failing < table
    assert "precondition-target_group" in md and "  - AWS: target 10.0.1.5:9009 unhealthy" in md
    assert md.index("`test_ok`") > table


def test_green_when_everything_passed():
    assert verdict([CheckRecord("f::t", "t", "loki", "passed")]) == (True, "GREEN: all 1 checks passed")


def test_checks_not_waited_for_are_counted_in_the_headline():
    """A read-back cut short because the verdict was already red was not verified this run:
    the headline says how many, after what failed."""
    records = [CheckRecord("f::test_push", "test_push", "loki", "failed", "push → 404"),
               CheckRecord("f::test_search", "test_search", "tempo", "skipped",
                           "not waited for: the verdict was already red (loki.push failed) …"),
               CheckRecord("f::test_ok", "test_ok", "mimir", "passed")]
    assert verdict(records) == (False, "RED: 1 of 2 checks failed (loki 1) · 1 not waited for")
    skipped_aws = [CheckRecord("f::a", "a", "aws", "skipped", "--skip-aws given"), *records[2:]]
    assert verdict(skipped_aws) == (True, "GREEN: all 1 checks passed")
