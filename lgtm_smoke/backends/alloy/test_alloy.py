"""The collector path: is Alloy, the stack's own collector, shipping its self-metrics to
Mimir and its logs to Loki under this stack's tenant? What to look for comes from the shipped
infra/images/alloy/config.alloy (packaged as collector.json).

Each test's docstring is its runbook line (docs/runbook.md has the long form)."""

import pytest

from lgtm_smoke.backends.alloy import checks

pytestmark = [pytest.mark.smoke, pytest.mark.alloy]


@pytest.mark.check(checks.self_metrics_fresh)
def test_alloy_self_metrics_are_fresh_in_mimir(outcome):
    """alloy_build_info{job="integrations/self"} is in Mimir under the suite's tenant and its
    last sample is at most two scrape intervals (2 × 30 s) old. Stale: Alloy stopped; absent:
    Alloy is down or writes as another tenant (LGTM_TENANT_ID of its task)."""
    assert outcome["age_s"] <= outcome["limit_s"]


@pytest.mark.check(checks.logs_in_loki)
def test_alloy_logs_are_in_loki(outcome):
    """Alloy's own log lines ({component="alloy"}) are in Loki under the suite's tenant."""
    assert outcome["newest_line_age_s"] >= 0
