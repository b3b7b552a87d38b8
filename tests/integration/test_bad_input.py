"""Bad input gets one line that says what to fix and exit code 4 (or a red verdict with a
one-line cause for a dead address) — never a traceback, never a green run that checked
nothing."""
from __future__ import annotations

import subprocess
import sys

import pytest


def smoke(tmp_path, *args, env=None):
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LGTM_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, env=full_env)


def error_lines(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("args, says", [
    (["-m", "smoke"], "smoke tests need the ALB: pass --alb"),
    (["-m", "smoke", "--alb", "http://"], "--alb 'http://' has no valid host name"),
    (["-m", "smoke", "--alb", "ftp://x.example"], "scheme must be http or https"),
    (["-m", "smoke", "--alb", "host:99999"], "is not a valid address"),
    (["-m", "smoke", "--alb", "lgtm-alb.invalid"], "cannot resolve ALB host 'lgtm-alb.invalid'"),
    (["-m", "smoke", "--alb", "127.0.0.1:1"], "no tenant: pass --tenant"),
    (["-m", "smoke", "--alb", "127.0.0.1:1", "--tenant", "a/b"], "is not a valid X-Scope-OrgID"),
    (["-m", "smoke", "--alb", "127.0.0.1:1", "--tenant", "t", "--readback-timeout", "-1"], "must be between 0 and 3600"),
    (["-m", "smoke", "--alb", "127.0.0.1:1", "--tenant", "t", "--readback-timeout", "soon"], "is not a number of seconds"),
    (["-m", "smoke", "--alb", "127.0.0.1:1", "--tenant", "t", "--run-id", "xyz"], "must be 12 hex digits"),
    (["-m", "smoke", "--alb", "127.0.0.1:1", "--tenant", "t", "--tfvars", "/nonexistent.tfvars"], "no such file"),
    (["-m", "smoke", "--devstack", "--fault", "no-such-fault"], "unknown fault 'no-such-fault'"),
    (["-m", "smoke", "--devstack", "--fault", "slow-ingest=soon"], "needs a non-negative number"),
])
def test_usage_errors_are_one_line_and_exit_4(tmp_path, args, says):
    proc = smoke(tmp_path, *args)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and says in lines[0], proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_environment_fallback_is_named_in_the_error(tmp_path):
    proc = smoke(tmp_path, "-m", "smoke", env={"LGTM_ALB": "ftp://x"})
    assert proc.returncode == 4 and "LGTM_ALB 'ftp://x'" in proc.stderr


def test_malformed_tfvars_is_one_line(tmp_path):
    bad = tmp_path / "common.tfvars"
    bad.write_text('tenant_id = "unterminated\n')
    proc = smoke(tmp_path, "-m", "smoke", "--alb", "127.0.0.1:1", "--tfvars", str(bad))
    assert proc.returncode == 4 and "is not valid HCL" in proc.stderr and len(error_lines(proc)) == 1


def test_tenant_defaults_to_the_stacks_tfvars(tmp_path):
    tfvars = tmp_path / "infra/terraform/environments/prod/common.tfvars"
    tfvars.parent.mkdir(parents=True)
    tfvars.write_text('tenant_id = "from-tfvars"\n')
    proc = smoke(tmp_path, "-m", "smoke and mimir", "--alb", "127.0.0.1:1", "--readback-timeout", "1")
    # Nothing listens on port 1: a red verdict whose cause names the refused connection and tenant source.
    assert proc.returncode == 1
    assert "RED: ALB 127.0.0.1:1 refuses connections — 6 checks blocked" in proc.stdout
    assert "tenant from-tfvars" in proc.stdout  # the header and headline name the resolved tenant
    assert "Traceback" not in proc.stdout + proc.stderr


def test_dead_alb_is_a_fast_red_verdict_not_a_wait(tmp_path):
    proc = smoke(tmp_path, "-m", "smoke and (mimir or loki)", "--alb", "127.0.0.1:1", "--tenant", "t")
    assert proc.returncode == 1
    # one root cause, named once in the headline, every check blocked by it
    assert "\nRED: ALB 127.0.0.1:1 refuses connections — 13 checks blocked · ALB http://127.0.0.1:1 · tenant t" in proc.stdout
    assert "\nverdict: RED: ALB 127.0.0.1:1 refuses connections — 13 checks blocked\n" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
