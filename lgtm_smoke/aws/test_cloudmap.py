"""Cloud Map: can the services find each other? Run this area alone:
`pytest -m "smoke and aws" -k test_cloudmap --alb $ALB`."""

import pytest

from lgtm_smoke.aws import cloudmap

pytestmark = [pytest.mark.smoke, pytest.mark.aws]


@pytest.mark.check(cloudmap.services_have_healthy_instances)
def test_services_registered_with_healthy_instances(outcome):
    """The namespace exists and every service has ≥ 1 instance not UNHEALTHY. Fails on: a
    service with 0 instances (tasks not registering, e.g. service_registries dropped), so
    Grafana's datasources cannot resolve it."""
    assert outcome["findings"] == []
