"""Fetch everything the AWS checks read, once, concurrently, into one `Snapshot`.

One boto3 session, one client per service (made in one thread: sessions are not thread-safe),
adaptive retries (client-side rate limiting on throttles: ELBv2's read bucket is 40 tokens
refilled at 10/s per account and region, shared with the console and Terraform), short
connect/read timeouts, and a bound on the whole fetch (`DEADLINE`), so no wait is open-ended.

First `sts:GetCallerIdentity` (allowed to every identity): no, expired or rejected
credentials stop the fetch there and block every AWS check with one line. Then each area
fetches in its own thread; every AWS problem becomes one line stored under the key the checks
read, so only the checks that need the missing fact fail, each naming it.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from . import alb, cloudmap, ecs, elasticache, s3
from .errors import (
    MODEL_NEEDS,
    NO_REGION,
    credentials_problem,
    describe_error,
    model_gap,
    too_old,
)
from .evidence import LogReader
from .settings import AwsSettings
from .snapshot import Snapshot

SERVICES = ("ecs", "elbv2", "s3", "elasticache", "servicediscovery", "logs", "sts")
PAGINATED = {
    "ecs": "list_tasks",
    "elbv2": "describe_rules",
    "s3": "list_objects_v2",
    "servicediscovery": "list_instances",
}
MAX_ATTEMPTS = 4  # adaptive mode: up to 3 retries (backoff ≤ 1+2+4 s), and the client slows its own rate
CALL_THREADS = 6  # per area (~40 calls per run); more only spend the shared ELBv2 token bucket faster
DEADLINE = 20.0  # seconds for the whole fetch, retries included; the checks then say what is missing
AREAS: dict[str, Callable[[Fetcher], None]] = {
    "ecs": lambda f: (ecs.fetch(f), cloudmap.fetch(f)),  # Cloud Map services come from the ECS services' registries
    "alb": alb.fetch,
    "s3": s3.fetch,
    "cache": elasticache.fetch,
}
AREA_KEYS = {"ecs": ("ecs", "cloudmap"), "alb": ("alb",), "s3": ("s3",), "cache": ("cache",)}
_warm: Future | None = None
_warm_lock = threading.Lock()


def prewarm() -> None:
    """Import boto3 and load the service models, endpoint rules and paginators in a background
    thread (from pytest_configure), so the fetch at collection finish starts warm. No API call,
    no credential lookup."""
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
    """What an area's `fetch(f)` gets: settings, the snapshot to fill, clients and a pool."""

    def __init__(self, settings: AwsSettings, snapshot: Snapshot, pool: ThreadPoolExecutor, session=None):
        import boto3
        from botocore.config import Config

        self.settings, self.snapshot, self.pool = settings, snapshot, pool
        self.session = session or boto3.session.Session(botocore_session=_botocore_session(), region_name=settings.region)
        self.region = self.session.region_name
        base = Config(
            retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS},
            connect_timeout=3,
            read_timeout=10,
            max_pool_connections=CALL_THREADS,
            s3={"addressing_style": "path"} if settings.endpoint_url else None,
        )
        self.clients: dict[str, Any] = {}
        for name in SERVICES:
            client = self.session.client(name, config=base, endpoint_url=settings.endpoint_url)
            client.meta.events.register("before-call", self._count)
            client.meta.events.register("after-call", _tag_error)
            self.clients[name] = client

    def _count(self, **_):
        self.snapshot.calls += 1

    def describe(self, exc: BaseException, what: str) -> str:
        return describe_error(exc, what, self.snapshot.principal)

    def attempt(self, key: str, what: str, fn: Callable[[], Any]) -> Any:
        """Run one fetch; on failure store its one-line reason under `key` and return None."""
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 - every failure becomes the check's one line
            self.snapshot.fail(key, self.describe(e, what))
            return None
        self.snapshot.put(key, value)
        return value

    def map(self, fn: Callable, items) -> list:
        return [f.result() for f in [self.pool.submit(fn, i) for i in items]]

    def with_pool(self, pool: ThreadPoolExecutor) -> Fetcher:
        """The same clients and snapshot with the area's own call pool, so one throttled
        service (its calls asleep in the adaptive rate limiter) never starves another area."""
        view = copy.copy(self)
        view.pool = pool
        return view

    def model_gaps(self) -> dict[str, str]:
        """{"elbv2.Rule.Transforms": why} for every member a check reads that the loaded
        botocore model lacks (the query protocol drops unmodelled members silently)."""
        import botocore

        gaps = {}
        for service, name, member, what in MODEL_NEEDS:
            if model_gap(self.clients[service].meta.service_model, name, member):
                gaps[".".join(filter(None, (service, name, member)))] = too_old(service, what, botocore.__version__)
        return gaps


def _tag_error(parsed=None, model=None, **_):
    """Name the service on an error response (botocore's ClientError carries only the
    operation), so AccessDenied can name the IAM action: elasticloadbalancing:DescribeRules."""
    if isinstance(parsed, dict) and "Error" in parsed and model is not None:
        parsed.setdefault("ResponseMetadata", {})["ServiceName"] = model.service_model.service_name


def fetch(settings: AwsSettings, session=None, deadline: float = DEADLINE) -> Snapshot:
    """The whole snapshot: all areas in parallel, each area's per-resource calls in parallel."""
    snapshot = Snapshot()
    started = time.perf_counter()
    outer = ThreadPoolExecutor(max_workers=len(AREAS), thread_name_prefix="aws-area")
    inner = {area: ThreadPoolExecutor(max_workers=CALL_THREADS, thread_name_prefix=f"aws-{area}") for area in AREAS}
    try:
        fetcher = Fetcher(settings, snapshot, inner["ecs"], session)
        snapshot.blocked = _preflight(fetcher)
        if snapshot.blocked:
            return snapshot
        snapshot.put("model_gaps", fetcher.model_gaps())
        snapshot.put("logs.reader", LogReader(fetcher.clients["logs"], fetcher.describe))
        futures = {area: outer.submit(fn, fetcher.with_pool(inner[area])) for area, fn in AREAS.items()}
        for area, fut in futures.items():
            left = max(0.1, deadline - (time.perf_counter() - started))
            try:
                fut.result(timeout=left)
            except FutureTimeout:  # what arrived stays; only what did not is named
                for key in AREA_KEYS[area]:
                    if not any(k == key or k.startswith(key + ".") for k in snapshot.values):
                        snapshot.fail(
                            key,
                            f"AWS did not answer the {area} reads within {deadline:.0f} s (throttled or "
                            "unreachable; adaptive retries gave up waiting): run again",
                        )
            except Exception as e:  # noqa: BLE001
                problem = credentials_problem(e)
                if problem:  # e.g. the token expired mid-run
                    snapshot.blocked = problem
                for key in AREA_KEYS[area]:
                    snapshot.fail(key, fetcher.describe(e, f"fetching {area}"))
    except Exception as e:  # noqa: BLE001 - e.g. boto3 cannot even build a client
        snapshot.blocked = credentials_problem(e) or describe_error(e, "creating AWS clients")
    finally:
        outer.shutdown(wait=False, cancel_futures=True)
        for pool in inner.values():
            pool.shutdown(wait=False, cancel_futures=True)
        snapshot.seconds = time.perf_counter() - started
    return snapshot


def _preflight(fetcher: Fetcher) -> str | None:
    """Region and credentials are needed by everything: say so once, not in every call."""
    if not fetcher.region:
        return NO_REGION
    try:
        if fetcher.session.get_credentials() is None:
            return credentials_problem(_no_credentials())
        fetcher.snapshot.principal = fetcher.clients["sts"].get_caller_identity()["Arn"]
    except Exception as e:  # noqa: BLE001
        return credentials_problem(e) or describe_error(e, "checking the AWS identity (sts:GetCallerIdentity)")
    return None


def _no_credentials() -> Exception:
    from botocore.exceptions import NoCredentialsError

    return NoCredentialsError()


def start(settings: AwsSettings) -> Future:
    """Kick the fetch off in the background (at collection finish); tests wait on the future."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aws-snapshot")
    future = pool.submit(fetch, settings)
    pool.shutdown(wait=False)
    return future
