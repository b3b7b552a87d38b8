"""Every AWS check, by area: what `lgtm_smoke/aws/test_<area>.py` names and the runner runs."""

from __future__ import annotations

from . import alb, cloudmap, ecs, elasticache, s3

BY_AREA = {
    "ecs": ecs.CHECKS,
    "alb": alb.CHECKS,
    "s3": s3.CHECKS,
    "elasticache": elasticache.CHECKS,
    "cloudmap": cloudmap.CHECKS,
}
ALL = tuple(c for checks in BY_AREA.values() for c in checks)
