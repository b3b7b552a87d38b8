"""Security at the ALB: internal and admin endpoints are not reachable from outside.
(The ALB room replaces this file with lgtm_smoke/backends/alb/; the per-backend security
checks live in lgtm_smoke/backends/<backend>/test_<backend>.py, marker `security`.)"""
import pytest

from lgtm_smoke.checks.security import exposed_endpoints, exposed_endpoints_check

pytestmark = [pytest.mark.smoke, pytest.mark.security]


@pytest.mark.check(exposed_endpoints_check)
@pytest.mark.parametrize("endpoint", exposed_endpoints(), ids=lambda e: e["path"])
def test_internal_endpoint_is_blocked_at_the_alb(outcome, endpoint):
    """Each endpoint in lgtm_smoke/data/exposed_endpoints.json answers 403 (an ALB deny rule)
    or 404 through the ALB. Anything else means a backend got the request: see the entry's
    `risk` for what an outsider could then do."""
    answer = outcome[endpoint["path"]]
    if answer["status"] not in (403, 404):
        pytest.fail(f"{answer['method']} {endpoint['path']} → {answer['status']} through the ALB, expected 403/404: "
                    f"{answer['body']} — reachable from outside: {endpoint['risk']}", pytrace=False)
