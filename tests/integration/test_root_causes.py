"""Root cause first: a dead backend is one line naming its target group with the count of
checks it blocked; blocked checks are JUnit errors carrying the precondition's message; the
password of a stack plugin beats the environment's."""
from __future__ import annotations

import re

DEAD_MIMIR = ("RED: target group mimir: GET /prometheus/api/v1/labels → 502 after 3 attempts: "
              "HTML page '502 Bad Gateway' — 6 checks blocked · 1 of 44 checks failed (mimir 1)")


def test_a_dead_backend_is_one_root_cause_with_its_blocked_count(run_smoke):
    # --wait-all: this test counts checks, and under load a read-back still waiting when Mimir's
    # precondition fails would be "not waited for" (test_a_red_verdict_does_not_wait… covers that)
    run = run_smoke("smoke and not aws", ["mimir-down"], "--wait-all")
    assert run.returncode == 1
    assert f"\nverdict: {DEAD_MIMIR}\n" in run.output, run.output[-3000:]
    junit = run.files["junit.xml"]
    errors = re.findall(r'<error message="([^"]*)"', junit)
    assert len(errors) == 6 and all("blocked by target_group.mimir: target group mimir: GET" in e for e in errors)
    # Grafana reaches Mimir on its own path: its datasource check fails on its own, naming what Grafana saw
    assert "test_mimir_datasource_has_tenant_header_and_is_healthy" in run.failed
    assert "Traceback" not in run.output


def test_a_prefix_that_is_not_stripped_is_red_at_once_not_at_the_deadline(run_smoke):
    """The seeds' /tempo 404 incident: Tempo's `404 page not found` is a route miss, never
    "not yet visible" (it used to poll to the read-back deadline)."""
    run = run_smoke("smoke and tempo", ["tempo-prefix-not-stripped"], timeout=30)
    assert run.returncode == 1
    assert "RED: target group tempo: GET /tempo/api/echo → 404: 404 page not found — 5 checks blocked" in run.output
    assert "not visible after" not in run.output


def test_devstack_uses_its_own_grafana_password_whatever_the_environment_says(tmp_path):
    from harness import run_pytest

    run = run_pytest(["-m", "smoke and grafana", "--devstack", "--readback-timeout", "5"], tmp_path,
                     env={"LGTM_GRAFANA_PASSWORD": "the-prod-password"})
    assert run.returncode == 0 and not run.failed, run.output[-3000:]
    assert len(run.passed) >= 11  # Grafana's own and each backend's datasource and proxy read


def test_a_bug_in_a_shipped_test_is_one_line_and_a_trace_file(tmp_path, stack):
    """A test body that crashes (here: it reads evidence its check never returns) is reported as a
    bug in the suite, in one line naming the file with the trace — never as a traceback."""
    from harness import run_pytest

    (tmp_path / "test_buggy.py").write_text(
        "import pytest\nfrom lgtm_smoke.backends.grafana import checks\n\n"
        "@pytest.mark.smoke\n@pytest.mark.check(checks.health)\n"
        "def test_reads_what_is_not_there(outcome):\n    assert outcome['no-such-key']\n")
    run = run_pytest([str(tmp_path / "test_buggy.py"), "--alb", stack.url, "--tenant", "t", *stack.suite_args()],
                     tmp_path)
    assert run.returncode == 1
    [message] = run.failed.values()
    first = message.splitlines()[0]
    assert first.startswith("bug in the suite: test_reads_what_is_not_there raised KeyError: 'no-such-key' (trace in ")
    assert "Traceback" not in run.output and "def test_reads_what_is_not_there" not in run.output


def test_dead_alb_and_dead_aws_credentials_are_two_root_causes(tmp_path):
    """Nothing listens at the ALB and there are no AWS credentials: two root causes in the
    headline with their blocked counts — no traceback, no 75 repeats of the same cause."""
    from harness import no_aws_credentials, run_pytest

    run = run_pytest(["-m", "smoke", "--alb", "http://127.0.0.1:1", "--tenant", "t"], tmp_path,
                     env=no_aws_credentials(tmp_path))
    assert run.returncode == 1 and not run.passed
    aws = sum(1 for name in run.failed if "blocked by aws.credentials" in run.failed[name])
    http = len(run.failed) - aws
    assert aws >= 20 and http >= 35  # the ALB checks that only evaluate listener rules need no ALB
    assert (f"\nverdict: RED: ALB 127.0.0.1:1 refuses connections — {http} checks blocked · "
            f"AWS: no credentials — {aws} checks blocked\n") in run.output, run.output[-3000:]
    assert "Traceback" not in run.output and "During handling" not in run.output


def test_a_red_verdict_does_not_wait_for_tempos_search_lag(run_smoke, stack):
    """Tempo's search lag is seconds on a real stack (the ingester must complete the trace): with
    Loki's route broken the verdict is red at once, and the search, still waiting, is reported
    skipped ("not waited for"), not waited out; --wait-all waits for it and it passes."""
    tempo = stack.backend("tempo")
    saved = tempo.search_delay
    try:
        tempo.search_delay = 6.0
        run = run_smoke("smoke and (loki or tempo)", ["loki-route-404"], timeout=30)
        tempo.search_delay = 1.5
        waited = run_smoke("smoke and (loki or tempo)", ["loki-route-404"], "--wait-all", timeout=30)
    finally:
        tempo.search_delay = saved
    assert run.returncode == 1 and "test_json_push_reads_back_exactly" in run.failed, run.output[-3000:]
    reason = run.skipped.get("test_trace_is_found_by_traceql_search", "")
    assert "not waited for: the verdict was already red (" in reason and "--wait-all waits for it" in reason, run.output
    assert re.search(r"\nverdict: RED: .*/loki/.* — \d+ checks blocked · 1 not waited for\n", run.output), run.output
    assert waited.returncode == 1 and "test_trace_is_found_by_traceql_search" in waited.passed, waited.output[-3000:]
