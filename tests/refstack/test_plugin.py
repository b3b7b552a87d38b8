"""The refstack's pytest plugin: --devstack sets the options lgtm-smoke reads (the stack's own
Grafana password beats the environment's), --fault without --devstack is a usage error, and
the AWS half is skipped, and said to be, when no seeded account can run."""
from __future__ import annotations

import json

from harness import run_pytest
from lgtm_refstack.plugin import _selects_aws


def test_fault_without_devstack_is_a_usage_error(tmp_path):
    run = run_pytest(["-m", "smoke", "--fault", "mimir-down"], tmp_path)
    assert run.returncode == 4 and "--fault needs --devstack" in run.output


def test_devstack_points_the_suite_at_the_stack_over_https(tmp_path):
    run = run_pytest(["-m", "smoke and grafana", "--devstack", "--readback-timeout", "5", "--report-json", "r.json"],
                     tmp_path, env={"LGTM_GRAFANA_PASSWORD": "the-prod-password"})
    assert run.returncode == 0, run.output[-3000:]  # the stack's own password won over the environment's
    report = json.loads(run.files["r.json"])
    assert "https://127.0.0.1:" in json.dumps(report)
    assert "AWS: " in run.output  # where the AWS half ran (or why it did not), under the verdict


def test_aws_account_starts_only_when_an_aws_check_can_run():
    assert _selects_aws("") and _selects_aws("smoke") and _selects_aws("smoke and aws")
    assert not _selects_aws("smoke and not aws") and not _selects_aws("smoke and (mimir or loki)")
