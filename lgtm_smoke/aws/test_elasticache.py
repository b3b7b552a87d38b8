"""ElastiCache: does the memcached cluster that Mimir and Loki cache through exist and do
their tasks point at it? Run this area alone: `pytest -m "smoke and aws" -k test_elasticache --alb $ALB`."""

import pytest

from lgtm_smoke.aws import elasticache

pytestmark = [pytest.mark.smoke, pytest.mark.aws]


@pytest.mark.check(elasticache.cluster_available)
def test_memcached_cluster_available(outcome):
    """The memcached cluster is `available` with memcached_config.num_cache_nodes nodes. Fails
    on: cluster missing (seed: ftt-mimir-memcache:11211 referenced but never created) or not available."""
    assert outcome["findings"] == []


@pytest.mark.check(elasticache.task_definitions_carry_endpoint)
def test_mimir_and_loki_carry_memcached_endpoint(outcome):
    """Mimir and Loki task definitions set MEMCACHED_ENDPOINT, and every one that sets it
    (Tempo too) names this cluster. Fails on: the variable missing from Mimir/Loki, or pointing
    at another cluster (seed: ftt-mimir-memcache:11211, which never existed)."""
    assert outcome["findings"] == []
