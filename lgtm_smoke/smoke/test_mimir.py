"""Metrics: can a Prometheus remote-write client store a sample in Mimir through the
ALB, and can it be read back with PromQL, under this stack's tenant?"""
import pytest

pytestmark = [pytest.mark.smoke, pytest.mark.mimir]


def test_remote_write_sample_reads_back_exactly(mimir_remote_write):
    """POST /api/v1/push (protobuf + raw snappy, X-Scope-OrgID) answers 2xx, and
    GET /prometheus/api/v1/query returns lgtm_smoke_probe{check="mimir"} with this run's
    value. Fails on: a missing ALB rule (404), Mimir down (502), tenant header dropped
    (401), ingestion not reaching queriers (not visible before --readback-timeout)."""
    evidence = mimir_remote_write.verify()
    assert float(evidence["value"]) == float(evidence["expected"])
