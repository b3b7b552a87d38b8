"""Probes: one push, then one read-back, for one check — with the read-back discipline
every suite shares.

A probe is a function `fn(ctx) -> evidence` registered with `@probe(id, backend)`. It
pushes through `ctx.push(...)` and polls through `ctx.read_back(...)`; both turn HTTP
answers into one of: done, not yet visible (poll again), transient (429/5xx/connection:
poll again), or a failure that names phase, method, path, tenant, expected vs received and
the response body. The runner starts every selected probe at once, so a whole run costs
about as much as its slowest probe.
"""
from __future__ import annotations

import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import tenacity

from .config import SmokeConfig
from .hints import hint
from .http import Client, Exchange, Unreachable

PUSH_ATTEMPTS = 5  # 50+100+200+400 ms of backoff: absorbs a flaky target, never waits long on a dead one
BAD_GATEWAY_ATTEMPTS = 3
FIRST_WAIT, MAX_WAIT = 0.05, 0.5


class CheckFailed(Exception):
    """A check's verdict: `cause` is one line; `detail` adds evidence lines."""

    def __init__(self, cause: str, detail: str = ""):
        super().__init__(cause)
        self.cause = cause
        self.detail = detail


class NotYetVisible(Exception):
    """A valid answer that does not (yet) hold the pushed data."""

    def __init__(self, exchange: Exchange | None, observed: str):
        super().__init__(observed)
        self.exchange = exchange
        self.observed = observed


class Transient(Exception):
    """429, 5xx or a connection error: worth another try."""

    def __init__(self, exchange: Exchange | None, reason: str):
        super().__init__(reason)
        self.exchange = exchange
        self.reason = reason


def expect_status(ex: Exchange, phase: str, ok=(200,), expected: str | None = None) -> Exchange:
    """Pass `ok` statuses; 429/5xx are transient; any other status fails at once."""
    if ex.status in ok:
        return ex
    if ex.status == 429 or ex.status >= 500:
        raise Transient(ex, f"{ex.status}")
    want = expected or " or ".join(str(s) for s in ok)
    raise CheckFailed(f"{phase}: {ex.method} {ex.path} ({_who(ex.tenant)}) → {ex.status}, expected {want}: "
                      f"{ex.preview(120)}{hint(ex, phase)}", f"response body: {ex.preview()}")


def _who(tenant: str | None) -> str:
    return f"tenant {tenant!r}" if tenant else "no tenant"


@dataclass
class Outcome:
    check: str
    backend: str
    ok: bool
    cause: str = ""
    detail: str = ""
    phase: str | None = None  # where it failed: "push" | "read" | None
    push_ok: bool | None = None
    read_ok: bool | None = None
    latency: float | None = None  # push sent → data visible, seconds
    duration: float = 0.0
    evidence: dict = field(default_factory=dict)

    def message(self) -> str:
        return self.cause + (f"\n{self.detail}" if self.detail else "")


class SettlingClient:
    """A probe's view of the ALB. Answers that mean "try again" — 429, 5xx, a reset connection —
    are retried a few times with backoff (a flaky target is not a failed check); the ALB's own
    502 (the target refused) only twice more, and a refused or unresolvable ALB never: a dead
    backend or ALB never waits. `settle=False` sends exactly once (a check that expects a 5xx)."""

    def __init__(self, client: Client):
        self.raw = client

    def request(self, method: str, path: str, *, settle: bool = True, **kw) -> Exchange:
        for attempt in range(PUSH_ATTEMPTS if settle else 1):
            if attempt:
                time.sleep(FIRST_WAIT * 2 ** (attempt - 1))
            try:
                ex = self.raw.request(method, path, **kw)
            except Unreachable as e:
                if e.kind != "connection" or attempt == PUSH_ATTEMPTS - 1 or not settle:
                    raise
                continue
            ex.attempts = attempt + 1
            if ex.status != 429 and ex.status < 500:
                return ex
            if ex.status == 502 and attempt >= BAD_GATEWAY_ATTEMPTS - 1:
                return ex
        return ex

    def get(self, path: str, **kw) -> Exchange:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> Exchange:
        return self.request("POST", path, **kw)


class ProbeContext:
    def __init__(self, config: SmokeConfig, client: Client, check: str):
        self.config = config
        self.client = SettlingClient(client)
        self.check = check
        self.run_id = config.run_id
        self.phase: str | None = None
        self.pushed_at: float | None = None
        self.push_ok: bool | None = None
        self.read_ok: bool | None = None
        self.latency: float | None = None

    # --- push --------------------------------------------------------------------
    def push(self, send: Callable[[], Exchange], ok=(200, 204), retry_on: Callable[[Exchange], bool] | None = None,
             what: str = "push") -> Exchange:
        """Send; `ctx.client` already rode out 429/5xx. `retry_on` marks other answers worth a fresh send."""
        self.phase = "push"
        self.pushed_at = time.monotonic()
        for _ in range(PUSH_ATTEMPTS):
            try:
                last = send()
            except Unreachable as e:
                self.push_ok = False
                raise CheckFailed(f"push: {what}: {e}") from None
            if last.status in ok:
                self.push_ok = True
                return last
            if not (retry_on and retry_on(last)):
                break
        self.push_ok = False
        tries = f" after {last.attempts} attempts" if last.attempts > 1 else ""
        raise CheckFailed(f"push: {last.method} {last.path} ({_who(last.tenant)}) → {last.status}{tries}, expected "
                          f"2xx: {last.preview(120)}{hint(last, 'push')}", f"response body: {last.preview()}")

    # --- read back ---------------------------------------------------------------
    def read_back(self, fetch: Callable[[], dict], what: str, timeout: float | None = None):
        """Poll `fetch` with exponential backoff until it returns, a hard failure, or the deadline."""
        self.phase = "read"
        timeout = self.config.readback_timeout if timeout is None else timeout
        start = self.pushed_at or time.monotonic()
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type((NotYetVisible, Transient, Unreachable)),
            wait=tenacity.wait_exponential(multiplier=FIRST_WAIT, min=FIRST_WAIT, max=MAX_WAIT),
            stop=tenacity.stop_before_delay(timeout),
            reraise=True,
        )
        try:
            result = retrying(fetch)
        except NotYetVisible as e:
            self.read_ok = False
            ex = e.exchange
            where = f"{ex.method} {ex.path} ({_who(ex.tenant)}) → {ex.status}" if ex else what
            raise CheckFailed(f"read: {where}: {what} not visible after {timeout:g}s; received {e.observed}",
                              f"last response body: {ex.preview()}" if ex else "") from None
        except Transient as e:
            self.read_ok = False
            ex = e.exchange
            raise CheckFailed(f"read: {ex.method} {ex.path} ({_who(ex.tenant)}) → {ex.status} until the "
                              f"{timeout:g}s deadline: {ex.preview(120)}{hint(ex, 'read')}",
                              f"last response body: {ex.preview()}") from None
        except Unreachable as e:
            self.read_ok = False
            raise CheckFailed(f"read: {what}: {e}") from None
        self.read_ok = True
        self.latency = time.monotonic() - start
        return result


@dataclass(frozen=True)
class ProbeSpec:
    id: str
    backend: str
    fn: Callable[[ProbeContext], dict]

    @property
    def fixture_name(self) -> str:
        return self.id.replace(".", "_").replace("-", "_")


REGISTRY: dict[str, ProbeSpec] = {}


def probe(id: str, backend: str):
    def register(fn):
        REGISTRY[id] = ProbeSpec(id, backend, fn)
        return fn

    return register


def load_all() -> dict[str, ProbeSpec]:
    """Import every check module so its probes register."""
    from . import checks  # noqa: F401

    return REGISTRY


class Runner:
    """Runs probes concurrently; each test waits only for its own."""

    def __init__(self, config: SmokeConfig, client: Client, workers: int = 16):
        self.config = config
        self.client = client
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
        self.futures: dict[str, Future] = {}
        self.outcomes: dict[str, Outcome] = {}

    def start(self, ids) -> None:
        for pid in ids:
            if pid not in self.futures:
                self.futures[pid] = self.pool.submit(self._run, REGISTRY[pid])

    def outcome(self, pid: str) -> Outcome:
        self.start([pid])
        out = self.futures[pid].result()
        self.outcomes[pid] = out
        return out

    def _run(self, spec: ProbeSpec) -> Outcome:
        ctx = ProbeContext(self.config, self.client, spec.id)
        t0 = time.monotonic()
        try:
            evidence = spec.fn(ctx) or {}
            ok, cause, detail = True, "", ""
        except CheckFailed as e:
            evidence, ok, cause, detail = {}, False, e.cause, e.detail
        except Exception as e:  # a bug in a probe must still end in a verdict, with its trace
            evidence, ok = {}, False
            cause = f"{ctx.phase or 'probe'}: internal error {type(e).__name__}: {e}"
            detail = traceback.format_exc()
        return Outcome(spec.id, spec.backend, ok, cause, detail, None if ok else ctx.phase, ctx.push_ok,
                       ctx.read_ok, ctx.latency, time.monotonic() - t0, evidence)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
