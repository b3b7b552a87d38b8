"""What is left of the old per-aspect check modules: only `security.exposed_endpoints`,
which the ALB room replaces (lgtm_smoke/backends/alb/) and then deletes with this package.
Every other check lives with its backend in lgtm_smoke/backends/<backend>/checks.py."""
