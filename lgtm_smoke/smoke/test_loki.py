"""Logs: can Loki take a push through the ALB in both wire formats clients use, and
serve the exact line back with LogQL, under this stack's tenant?"""
import pytest

pytestmark = [pytest.mark.smoke, pytest.mark.loki]


def test_json_push_reads_back_exactly(loki_push_json):
    """POST /loki/api/v1/push as application/json answers 2xx, and query_range with a
    line filter on this run's id returns the very line. Fails on: /loki/* not routed
    (404), Loki down (502), tenant header dropped (401), slow ingest past the deadline."""
    evidence = loki_push_json.verify()
    assert evidence["line"].endswith("level=info") and evidence["streams"] >= 1


def test_protobuf_push_reads_back_exactly(loki_push_protobuf):
    """POST /loki/api/v1/push as snappy-compressed logproto.PushRequest (what Alloy and
    Promtail send) answers 2xx, and the line reads back exactly."""
    evidence = loki_push_protobuf.verify()
    assert "check=loki-proto" in evidence["line"] and evidence["streams"] >= 1
