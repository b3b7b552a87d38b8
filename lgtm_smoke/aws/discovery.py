"""Find the stack in AWS and fetch everything the checks read, once, concurrently.

Settings: option > environment > the stack's common.tfvars > default. Where a name is not
given, the resource is discovered: the ALB from `--alb` when it is an ELB DNS name (else by
`--alb-name` or `<project_name>-<environment>-alb` from tfvars), ECS services / Cloud Map
services / target groups by their short name (`mimir`) or a `*-mimir` suffix.

Every AWS problem becomes one line (no traceback) stored in the snapshot under the key the
checks read, so only the checks that need the missing fact fail, each naming it.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import config as cfg
from ..backends.alb import routes as routes_mod
from . import Snapshot

DEFAULT_SERVICES = ("grafana", "mimir", "loki", "tempo", "pyroscope", "alloy")
NO_CREDENTIALS = ("no AWS credentials: configure the standard chain (env, profile, OIDC role) "
                  "or pass --skip-aws")
CREDENTIAL_CODES = {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken",
                    "ExpiredTokenException", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                    "AuthFailure", "InvalidSignatureException"}

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


def resolve(getoption: Callable[[str], Any], tfvars: dict, alb_host: str, tenant: str,
            tfvars_path=None) -> AwsSettings:
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
    if not alb_name and not alb_host.lower().endswith(".elb.amazonaws.com") and tfvars.get("project_name") and tfvars.get("environment"):
        alb_name, alb_src = f"{tfvars['project_name']}-{tfvars['environment']}-alb", f"project_name-environment-alb in {where}"
    prefixes = tfvars.get("storage_prefixes") or {}
    nodes = (tfvars.get("memcached_config") or {}).get("num_cache_nodes")
    return AwsSettings(
        region=values["region"], endpoint_url=getoption("aws_endpoint_url") or cfg.env("LGTM_AWS_ENDPOINT_URL"),
        cluster=values["cluster"], data_bucket=values["data_bucket"], state_bucket=values["state_bucket"],
        cloudmap_namespace=values["cloudmap_namespace"], memcached_cluster=values["memcached_cluster"],
        services=services, tenant=tenant, alb_host=alb_host, alb_name=alb_name, alb_name_source=alb_src,
        storage_prefixes={k: str(v).strip("/") for k, v in prefixes.items()},
        memcached_nodes=int(nodes) if nodes is not None else None,
        expect_image_tag=_per_service(getoption("aws_expect_image_tag") or cfg.env("LGTM_EXPECT_IMAGE_TAG"), "--expect-image-tag"),
        expect_image_digest=_per_service(getoption("aws_expect_image_digest") or cfg.env("LGTM_EXPECT_IMAGE_DIGEST"), "--expect-image-digest"),
        stopped_window_minutes=window, skip=bool(getoption("skip_aws")), routes=routes_mod.load(), hints=hints)


# --- errors ------------------------------------------------------------------------------
def describe_error(exc: BaseException, what: str) -> str:
    """One line for any AWS failure, naming what was being fetched."""
    from botocore import exceptions as bx

    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError)):
        return NO_CREDENTIALS
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region: pass --region, set AWS_REGION, or set aws_region in common.tfvars"
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return f"cannot reach AWS while {what} ({first_line(exc)}): check --region, the network, or --aws-endpoint-url"
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code, msg = err.get("Code", "?"), first_line(err.get("Message", ""))
        if code in CREDENTIAL_CODES:
            return f"AWS credentials rejected ({code}) while {what}: refresh them or pass --skip-aws"
        if "AccessDenied" in code or code == "UnauthorizedOperation":
            return f"access denied while {what} ({code}: {msg}): grant the smoke role read access"
        return f"{what}: {code}: {msg}"
    return f"{what}: {type(exc).__name__}: {first_line(exc)}"


def first_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def code_of(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


# --- the fetch ---------------------------------------------------------------------------
SERVICES = ("ecs", "elbv2", "s3", "elasticache", "servicediscovery")
PAGINATED = {"ecs": "list_tasks", "elbv2": "describe_rules", "s3": "list_objects_v2", "servicediscovery": "list_instances"}
_warm: Future | None = None
_warm_lock = threading.Lock()


def prewarm() -> None:
    """Import boto3 and load the five service models, endpoint rules and paginators in a
    background thread (from pytest_configure), so the fetch at collection finish starts warm.
    No API call, no credential lookup."""
    global _warm
    with _warm_lock:
        if _warm is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aws-prewarm")
            _warm = pool.submit(_warm_session)
            pool.shutdown(wait=False)


def _warm_session():
    import botocore.session

    session = botocore.session.Session()
    for name in SERVICES:
        client = session.create_client(name, region_name="us-east-1", aws_access_key_id="warm", aws_secret_access_key="warm")
        if name in PAGINATED:
            client.get_paginator(PAGINATED[name])
    return session


def _botocore_session():
    """The prewarmed botocore session when there is one (its loader caches the models)."""
    global _warm
    with _warm_lock:
        warm, _warm = _warm, None  # one user: botocore sessions are not shared across fetches
    try:
        return warm.result() if warm is not None else None
    except Exception:  # noqa: BLE001 - a failed warm-up only costs the time it saved
        return None


class Fetcher:
    """Boto3 clients (made once, in one thread: sessions are not thread-safe) and a pool."""

    def __init__(self, settings: AwsSettings, snapshot: Snapshot, pool: ThreadPoolExecutor):
        import boto3
        from botocore.config import Config

        self.settings, self.snapshot, self.pool = settings, snapshot, pool
        self.session = boto3.session.Session(botocore_session=_botocore_session(), region_name=settings.region)
        self.region = self.session.region_name
        base = Config(retries={"max_attempts": 2}, connect_timeout=3, read_timeout=10,
                      s3={"addressing_style": "path"} if settings.endpoint_url else None)
        self.clients: dict[str, Any] = {}
        for name in SERVICES:
            client = self.session.client(name, config=base, endpoint_url=settings.endpoint_url)
            client.meta.events.register("before-call", self._count)
            self.clients[name] = client

    def _count(self, **_):
        self.snapshot.calls += 1

    def attempt(self, key: str, what: str, fn: Callable[[], Any]) -> Any:
        """Run one fetch; on failure store its one-line reason under `key` and return None."""
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 - every failure becomes the check's one line
            self.snapshot.fail(key, describe_error(e, what))
            return None
        self.snapshot.put(key, value)
        return value

    def map(self, fn: Callable, items) -> list:
        return [f.result() for f in [self.pool.submit(fn, i) for i in items]]


def fetch(settings: AwsSettings) -> Snapshot:
    """The whole snapshot: all areas in parallel, each area's per-resource calls in parallel."""
    from . import alb, cloudmap, ecs, elasticache, s3

    snapshot = Snapshot()
    started = time.perf_counter()
    areas = {"ecs": ecs.fetch, "alb": alb.fetch, "s3": s3.fetch, "cache": elasticache.fetch, "cloudmap": cloudmap.fetch}
    try:
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="aws-area") as outer, \
                ThreadPoolExecutor(max_workers=24, thread_name_prefix="aws-call") as inner:
            fetcher = Fetcher(settings, snapshot, inner)
            problem = _preflight(fetcher)
            if problem:
                for area in areas:
                    snapshot.fail(area, problem)
                return snapshot
            futures = {area: outer.submit(fn, fetcher) for area, fn in areas.items()}
            for area, fut in futures.items():
                try:
                    fut.result()
                except Exception as e:  # noqa: BLE001
                    snapshot.fail(area, describe_error(e, f"fetching {area}"))
    except Exception as e:  # noqa: BLE001 - e.g. boto3 cannot even build a client
        for area in areas:
            snapshot.fail(area, describe_error(e, "creating AWS clients"))
    finally:
        snapshot.seconds = time.perf_counter() - started
    return snapshot


def _preflight(fetcher: Fetcher) -> str | None:
    """Region and credentials are needed by everything: say so once, not in every call."""
    if not fetcher.region:
        return "no AWS region: pass --region, set AWS_REGION, or set aws_region in common.tfvars"
    try:
        creds = fetcher.session.get_credentials()
    except Exception as e:  # noqa: BLE001
        return describe_error(e, "reading AWS credentials")
    if creds is None:
        return NO_CREDENTIALS
    return None


def start(settings: AwsSettings) -> Future:
    """Kick the fetch off in the background (at collection finish); tests wait on the future."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aws-snapshot")
    future = pool.submit(fetch, settings)
    pool.shutdown(wait=False)
    return future


def match_name(short: str, names) -> str | None:
    """`mimir` matches `mimir` or any `*-mimir` (e.g. `lgtm-prod-mimir`); exact wins."""
    names = list(names)
    if short in names:
        return short
    hits = [n for n in names if n.endswith("-" + short)]
    return min(hits, key=len) if hits else None
