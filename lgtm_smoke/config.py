"""Moved to lgtm_smoke.settings (the one resolver). This name stays only until the AWS room's
code (aws/discovery.py, tests/aws/seed.py) imports lgtm_smoke.settings; then it goes."""
from .settings import (TFVARS_RELATIVE, Alb, Settings, SmokeConfig, UsageError, env, find_tfvars,  # noqa: F401
                       load_tfvars, parse_alb, parse_run_id, parse_tenant, parse_timeout)
