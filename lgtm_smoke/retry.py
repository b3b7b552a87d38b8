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


class _GiveUp(tenacity.stop.stop_base):
    def __init__(self, give_up: Callable[[], bool]):
        self.give_up = give_up

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.give_up()


def poll(fetch: Callable[[], T], again: tuple[type[BaseException], ...], timeout: float,
         give_up: Callable[[], bool] | None = None, sleep: Callable[[float], Any] | None = None,
         cap: float = MAX_WAIT) -> T:
    """`fetch()` with exponential backoff (at most `cap` between tries) while it raises one of
    `again`, until `timeout` seconds or `give_up()`; then the last of those exceptions
    propagates. `sleep` may wake early (the run's red flag) so `give_up` is asked at once."""
    stop: tenacity.stop.stop_base = tenacity.stop_before_delay(timeout)
    if give_up is not None:
        stop = stop | _GiveUp(give_up)
    retrying = tenacity.Retrying(retry=tenacity.retry_if_exception_type(again), wait=_backoff(cap=cap), stop=stop,
                                 sleep=sleep or tenacity.nap.sleep, reraise=True)
    return retrying(fetch)
