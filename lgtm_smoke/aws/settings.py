"""Where the stack is in AWS and what it should look like: option > environment > the
stack's common.tfvars > default. Where a name is not given, the resource is discovered: the
ALB from `--alb` when it is an ELB DNS name (else by `--alb-name` or
`<project_name>-<environment>-alb` from tfvars), ECS services / target groups by their short
name (`mimir`) or a `*-mimir` suffix, Cloud Map services from the ECS services' registries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import settings as cfg
from ..data import routes as routes_mod

DEFAULT_SERVICES = ("grafana", "mimir", "loki", "tempo", "pyroscope", "alloy")

# name -> (option dest, env var, tfvars key, help)
OPTIONS = {
    "region": ("aws_region", "AWS_REGION", "aws_region"),
    "cluster": ("aws_cluster", "LGTM_ECS_CLUSTER", "ecs_cluster_name"),
    "data_bucket": ("aws_data_bucket", "LGTM_DATA_BUCKET", "data_bucket"),
    "state_bucket": ("aws_state_bucket", "LGTM_STATE_BUCKET", "state_bucket"),
    "cloudmap_namespace": ("aws_cloudmap_namespace", "LGTM_CLOUDMAP_NAMESPACE", "cloudmap_namespace"),
    "memcached_cluster": ("aws_memcached_cluster", "LGTM_MEMCACHED_CLUSTER", "memcached_cluster_id"),
}


@dataclass(frozen=True)
class AwsSettings:
    """Where the stack is and what it should look like (the checks' expectations)."""

    region: str | None
    endpoint_url: str | None
    cluster: str | None
    data_bucket: str | None
    state_bucket: str | None
    cloudmap_namespace: str | None
    memcached_cluster: str | None
    services: tuple[str, ...]
    tenant: str
    alb_host: str
    alb_name: str | None  # explicit --alb-name, or derived from tfvars when --alb is not an ELB name
    alb_name_source: str = ""
    storage_prefixes: dict[str, str] = field(default_factory=dict)
    memcached_nodes: int | None = None
    expect_image_tag: dict[str, str] = field(default_factory=dict)  # service or "*" -> tag
    expect_image_digest: dict[str, str] = field(default_factory=dict)
    stopped_window_minutes: float = 30.0
    skip: bool = False
    routes: routes_mod.RouteTable | None = field(default=None, repr=False)
    hints: dict[str, str] = field(default_factory=dict)  # unset setting -> what to pass
    data_bucket_kms_key: str | None = None  # data_bucket_kms_key_arn in tfvars; default: the aws/s3 key

    @property
    def rules_listener(self) -> dict:
        """The listener the routes.json rules live on: `listeners[rules_listener]` (HTTPS on
        443 with a certificate), else the old single `listener` (port 80)."""
        name = self.routes.rules_listener
        return dict(self.routes.listeners[name], name=name)

    def expected_image(self, service: str) -> tuple[str | None, str | None]:
        tag = self.expect_image_tag.get(service, self.expect_image_tag.get("*"))
        digest = self.expect_image_digest.get(service, self.expect_image_digest.get("*"))
        return tag, digest


def _per_service(raw: str | None, source: str) -> dict[str, str]:
    """`TAG` (every service) or `svc=TAG,svc=TAG`."""
    if not raw:
        return {}
    out: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        if "=" in part:
            svc, _, val = part.partition("=")
            if not svc.strip() or not val.strip():
                raise cfg.UsageError(f"{source} {raw!r}: use TAG or service=TAG[,service=TAG]")
            out[svc.strip()] = val.strip()
        else:
            out["*"] = part
    return out


def resolve(getoption: Callable[[str], Any], tfvars: dict, alb_host: str, tenant: str, tfvars_path=None) -> AwsSettings:
    """Options > environment > tfvars; bad input is a UsageError, unset names become hints."""
    where = f"common.tfvars ({tfvars_path})" if tfvars_path else "common.tfvars"
    values: dict[str, str | None] = {}
    hints: dict[str, str] = {}
    for name, (dest, envvar, tfkey) in OPTIONS.items():
        value = getoption(dest) or cfg.env(envvar)
        if name == "region":
            value = value or cfg.env("AWS_DEFAULT_REGION")
        value = value or (str(tfvars[tfkey]) if tfvars.get(tfkey) else None)
        values[name] = value
        flag = "--" + dest.replace("aws_", "", 1).replace("_", "-") if name != "region" else "--region"
        hints[name] = f"pass {flag} (env {envvar}) or set {tfkey} in {where}"
    services_raw = getoption("aws_services") or cfg.env("LGTM_SERVICES")
    services = tuple(s.strip() for s in services_raw.split(",") if s.strip()) if services_raw else DEFAULT_SERVICES
    if not services:
        raise cfg.UsageError("--services is empty: pass a comma list, e.g. --services mimir,loki")
    window_raw = getoption("aws_stopped_window") or cfg.env("LGTM_STOPPED_WINDOW_MINUTES") or 30
    try:
        window = float(window_raw)
        if not 0 < window <= 24 * 60:
            raise ValueError
    except (TypeError, ValueError):
        raise cfg.UsageError(f"--stopped-window-minutes {window_raw!r}: a number of minutes in (0, 1440], e.g. 30") from None
    alb_name, alb_src = getoption("aws_alb_name") or cfg.env("LGTM_ALB_NAME"), "--alb-name"
    if (
        not alb_name
        and not alb_host.lower().endswith(".elb.amazonaws.com")
        and tfvars.get("project_name")
        and tfvars.get("environment")
    ):
        alb_name, alb_src = (
            f"{tfvars['project_name']}-{tfvars['environment']}-alb",
            f"project_name-environment-alb in {where}",
        )
    prefixes = tfvars.get("storage_prefixes") or {}
    nodes = (tfvars.get("memcached_config") or {}).get("num_cache_nodes")
    return AwsSettings(
        region=values["region"],
        endpoint_url=getoption("aws_endpoint_url") or cfg.env("LGTM_AWS_ENDPOINT_URL"),
        cluster=values["cluster"],
        data_bucket=values["data_bucket"],
        state_bucket=values["state_bucket"],
        cloudmap_namespace=values["cloudmap_namespace"],
        memcached_cluster=values["memcached_cluster"],
        services=services,
        tenant=tenant,
        alb_host=alb_host,
        alb_name=alb_name,
        alb_name_source=alb_src,
        storage_prefixes={k: str(v).strip("/") for k, v in prefixes.items()},
        memcached_nodes=int(nodes) if nodes is not None else None,
        expect_image_tag=_per_service(
            getoption("aws_expect_image_tag") or cfg.env("LGTM_EXPECT_IMAGE_TAG"), "--expect-image-tag"
        ),
        expect_image_digest=_per_service(
            getoption("aws_expect_image_digest") or cfg.env("LGTM_EXPECT_IMAGE_DIGEST"), "--expect-image-digest"
        ),
        stopped_window_minutes=window,
        skip=bool(getoption("skip_aws")),
        routes=routes_mod.load(),
        hints=hints,
        data_bucket_kms_key=tfvars.get("data_bucket_kms_key_arn") or None,
    )


def match_name(short: str, names) -> str | None:
    """`mimir` matches `mimir` or any `*-mimir` (e.g. `lgtm-prod-mimir`); exact wins."""
    names = list(names)
    if short in names:
        return short
    hits = [n for n in names if n.endswith("-" + short)]
    return min(hits, key=len) if hits else None
