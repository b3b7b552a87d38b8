"""The context of an HTTP check (kind "http"): push once, read back with the discipline every
backend shares, and one classification of every answer.

Every answer is one of: done; not yet visible (poll again until the deadline); transient (429,
503, 504, a reset connection: poll again); or a failure — and a route miss (Go's
`404 page not found`, Grafana's not-found page, the ALB's fixed 404, a 404 with any body where
the backend's own "not there yet" 404 is empty, the ALB's or a proxy's 502 after the client rode
it out) is always a failure at once, never "not yet visible". Failures name phase, method,
path, tenant, expected vs received, the body and the likely cause.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from . import retry
from .http import Client, Exchange, Unreachable
from .outcome import NOT_WAITED, CheckFailed, NotWaited
from .settings import Settings

NOT_WAITED_AFTER = 1.0  # seconds a read-back waits even when the verdict is red: every healthy backend's
# read-back of the reference stack and of a real stack lands well inside it, so only a genuinely slow one stops


class NotYetVisible(Exception):
    """A valid answer that does not (yet) hold the pushed data."""

    def __init__(self, exchange: Exchange | None, observed: str):
        super().__init__(observed)
        self.exchange = exchange
        self.observed = observed


class Transient(Exception):
    """429, 503, 504 or a connection error: worth another try."""

    def __init__(self, exchange: Exchange, reason: str):
        super().__init__(reason)
        self.exchange = exchange
        self.reason = reason


def hint(ex: Exchange, phase: str = "") -> str:
    """The likely cause of a well-known answer (each mirrors an incident in the seeds)."""
    text = ex.text.lower()
    if ex.status == 404 and "404 page not found" in text and ex.path.startswith("/tempo/"):
        return " — Tempo got the /tempo prefix: is the ALB url-rewrite transform missing?"
    if ex.status == 404 and "404 page not found" in text and ex.path.startswith("/v1/traces"):
        return (" — /v1/traces reached a Tempo port without an OTLP receiver: does the ALB rule forward it to the "
                "API target group (3200) instead of the OTLP receiver's (4318)?")
    if ex.status == 404:
        return " — no ALB rule routes this path to its backend (it fell through to the default action)?"
    if ex.status == 401 and "no org id" in text:
        return " — the X-Scope-OrgID header did not reach the backend"
    if ex.status == 403:
        return " — blocked at the ALB (a deny rule matches this path)"
    if ex.status == 502:
        return " — the ALB reached no running target: is the backend's ECS service up?"
    if ex.status == 503:
        return " — no healthy target or the backend is not ready (check target-group health)"
    if ex.status == 504:
        return " — the target did not answer in time"
    return ""


def route_miss(ex: Exchange) -> bool:
    """The request never reached the backend's handler: a 404 that carries a body (the
    backend's own "no such thing yet" 404 is empty) or a 502 that outlived the client's retries."""
    return (ex.status == 404 and bool(ex.body.strip())) or ex.status == 502


def failed(ex: Exchange, phase: str, expected: str | None, why: str = "") -> CheckFailed:
    """The one-line failure for an answer: `expected` None for a route miss (the answer is
    not the backend's, so there is nothing to compare)."""
    tries = f" after {ex.attempts} attempts" if ex.attempts > 1 else ""
    want = f", expected {expected}" if expected else ""
    return CheckFailed(f"{phase}: {ex.method} {ex.path} ({ex.who()}) → {ex.status}{tries}{want}: "
                       f"{ex.preview(120)}{why or hint(ex, phase)}", [f"response body: {ex.preview()}"])


def expect_status(ex: Exchange, phase: str, ok: Iterable[int] = (200,), expected: str | None = None) -> Exchange:
    """Pass `ok` statuses (a 404 in `ok` only with an empty body); a route miss fails at once;
    429/503/504 are transient; any other status fails at once."""
    ok = tuple(ok)
    want = expected or " or ".join(str(s) for s in ok)
    if route_miss(ex):
        raise failed(ex, phase, None)
    if ex.status in ok:
        return ex
    if ex.status == 429 or ex.status >= 500:
        raise Transient(ex, f"{ex.status}")
    raise failed(ex, phase, want)


def expect_now(ex: Exchange, phase: str, ok: Iterable[int] = (200,)) -> Exchange:
    """expect_status for a one-shot call (outside a read-back): 429/5xx fail at once too."""
    try:
        return expect_status(ex, phase, ok)
    except Transient:
        raise failed(ex, phase, " or ".join(map(str, ok))) from None


def json_of(ex: Exchange, phase: str, what: str) -> Any:
    try:
        return ex.json()
    except ValueError:
        raise CheckFailed(f"{phase}: {ex.method} {ex.path} → {ex.status} is not {what} JSON: "
                          f"{ex.preview(120)}{hint(ex, phase) if ex.status != 200 else ''}") from None


class ProbeContext:
    """What an HTTP check's `fn(ctx)` gets: the run's settings, a settling client to the ALB,
    and push / read-back helpers that record push ok, read ok and push→visible latency.
    `aws` is the run's AWS snapshot for the few HTTP checks that read AWS facts (the ALB's
    listener rules), fetched on first use; None when the run does not look at AWS."""

    def __init__(self, settings: Settings, client: Client, check: str, aws: Callable[[], Any] | None = None,
                 red: Any = None):
        self.settings = settings
        self.client = client
        self.check = check
        self._aws = aws
        self.red = red  # runner.RedFlag: up once the verdict is red; None waits every read-back out
        self.run_id = settings.run_id
        self.phase: str | None = None
        self.pushed_at: float | None = None
        self.push_ok: bool | None = None
        self.read_ok: bool | None = None
        self.latency: float | None = None
        self.on_pushed: Callable[[], None] | None = None  # the runner's, for a leading check (Check.leads)

    @property
    def tenant(self) -> str:
        return self.settings.tenant

    @property
    def aws(self) -> Any:
        """The run's `lgtm_smoke.aws` Snapshot (waited for, bounded), or None (--skip-aws)."""
        return self._aws() if self._aws is not None else None

    # --- push --------------------------------------------------------------------
    def push(self, send: Callable[[], Exchange], ok: Iterable[int] = (200, 204),
             retry_on: Callable[[Exchange], bool] | None = None, what: str = "push") -> Exchange:
        """Send; the client already rode out 429/5xx. `retry_on` marks other answers worth a fresh send."""
        ok = tuple(ok)
        self.phase = "push"
        self.pushed_at = time.monotonic()
        try:
            last = retry.repeat_while(send, lambda ex: ex.status not in ok and bool(retry_on and retry_on(ex)))
        except Unreachable as e:
            self.push_ok = False
            raise CheckFailed(f"push: {what}: {e}") from None
        if last.status in ok:
            self.accepted(at=None)
            return last
        self.push_ok = False
        raise failed(last, "push", "2xx")

    def accepted(self, at: float | None) -> None:
        """The backend accepted the push: push→visible counts from `at` (None: from the send)."""
        self.push_ok = True
        if at is not None:
            self.pushed_at = at
        if self.on_pushed is not None:
            self.on_pushed()

    # --- read back ---------------------------------------------------------------
    def read_back(self, fetch: Callable[[], Any], what: str, timeout: float | None = None,
                  poll_cap: float = retry.MAX_WAIT) -> Any:
        """Poll `fetch` with exponential backoff until it returns, a hard failure, or the deadline;
        or, once the verdict is red and this read has waited NOT_WAITED_AFTER seconds, NotWaited."""
        self.phase = "read"
        timeout = self.settings.readback_timeout if timeout is None else timeout
        start = self.pushed_at or time.monotonic()
        red = self.red

        def give_up() -> bool:
            return red.is_up() and time.monotonic() - start >= NOT_WAITED_AFTER

        def sleep(seconds: float) -> None:
            if red.is_up():
                time.sleep(seconds)
            else:  # wakes when the verdict turns red, so give_up() is asked at once
                red.wait(seconds)

        def once() -> Any:
            try:
                return fetch()
            except Unreachable as e:  # refused, unresolvable, untrusted: waiting changes nothing
                if e.kind in ("connection", "timeout"):
                    raise
                raise CheckFailed(f"read: {what}: {e}") from None

        try:
            result = retry.poll(once, (NotYetVisible, Transient, Unreachable), timeout, cap=poll_cap,
                                give_up=give_up if red is not None else None, sleep=sleep if red is not None else None)
        except (NotYetVisible, Transient, Unreachable) as e:
            if red is not None and give_up() and time.monotonic() - start < timeout:
                self.read_ok = None
                last = e.observed if isinstance(e, NotYetVisible) else e.reason if isinstance(e, Transient) else e
                raise NotWaited(f"{NOT_WAITED}: the verdict was already red ({red.why}) when this read had waited "
                                f"{time.monotonic() - start:.1f}s for {what} (last: {last}); --wait-all waits for it"
                                ) from None
            raise self._read_failed(e, what, timeout) from None
        except CheckFailed:
            self.read_ok = False
            raise
        self.read_ok = True
        self.latency = time.monotonic() - start
        return result

    def _read_failed(self, e: Exception, what: str, timeout: float) -> CheckFailed:
        """The failure of a read-back that ran out of time (or whose ALB stopped answering)."""
        self.read_ok = False
        if isinstance(e, NotYetVisible):
            ex = e.exchange
            where = f"{ex.method} {ex.path} ({ex.who()}) → {ex.status}" if ex else what
            return CheckFailed(f"read: {where}: {what} not visible after {timeout:g}s; received {e.observed}",
                               [f"last response body: {ex.preview()}"] if ex else [])
        if isinstance(e, Transient):
            ex = e.exchange
            return CheckFailed(f"read: {ex.method} {ex.path} ({ex.who()}) → {ex.status} until the {timeout:g}s "
                               f"deadline: {ex.preview(120)}{hint(ex, 'read')}", [f"last response body: {ex.preview()}"])
        return CheckFailed(f"read: {what}: {e}")
