"""The one retry policy module: every wait and every repeated request in the suite is one of
these tenacity policies, so "how long do we wait for what" is answered here.

- `settle`: one request, repeated while the answer means "try again" (429, 5xx, a reset
  connection) — a flaky target is not a failed check; a dead one never waits long.
- `repeat_while`: one call, repeated while its result says it was a blip.
- `poll`: a read-back, polled until it holds the data, a hard failure or the deadline.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

import tenacity

T = TypeVar("T")

ATTEMPTS = 5  # 50+100+200+400 ms of backoff: absorbs a flaky target, never waits long on a dead one
FIRST_WAIT, MAX_WAIT = 0.05, 0.5


def _last(state: tenacity.RetryCallState) -> Any:
    """When the attempts run out: the last answer (or the last error, raised)."""
    assert state.outcome is not None
    return state.outcome.result()


def _backoff(first: float = FIRST_WAIT, cap: float = MAX_WAIT) -> tenacity.wait.wait_base:
    return tenacity.wait_exponential(multiplier=first, min=first, max=cap)


def repeat_while(call: Callable[[], T], blip: Callable[[T], bool], attempts: int = ATTEMPTS,
                 first_wait: float = FIRST_WAIT) -> T:
    """`call()` up to `attempts` times while `blip(result)`; the last result either way."""
    retrying = tenacity.Retrying(retry=tenacity.retry_if_result(blip), stop=tenacity.stop_after_attempt(attempts),
                                 wait=_backoff(first_wait), retry_error_callback=_last,
                                 reraise=True)
    return retrying(call)


def settle(send: Callable[[], T], blip: Callable[[T], bool], transient: Callable[[BaseException], bool],
           attempts: int = ATTEMPTS) -> T:
    """`send()` while its answer is a blip or it raised a transient error (then the last error
    propagates); the last answer otherwise."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(blip) | tenacity.retry_if_exception(transient),
        stop=tenacity.stop_after_attempt(attempts), wait=_backoff(),
        retry_error_callback=_last, reraise=True)
    return retrying(send)


def poll(fetch: Callable[[], T], again: tuple[type[BaseException], ...], timeout: float) -> T:
    """`fetch()` with exponential backoff while it raises one of `again`, until `timeout`
    seconds; then the last of those exceptions propagates."""
    retrying = tenacity.Retrying(retry=tenacity.retry_if_exception_type(again), wait=_backoff(),
                                 stop=tenacity.stop_before_delay(timeout), reraise=True)
    return retrying(fetch)
