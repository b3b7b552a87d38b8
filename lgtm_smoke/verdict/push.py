"""`--push-results`: the run's outcome as a handful of fixed series, remote-written to
Mimir through the ALB under the run's tenant, so smoke history shows in Grafana
(infra/images/grafana/dashboards/lgtm-smoke.json).

Bounded cardinality: labels are the check's test name, its area and the run's source only —
never the run id, ALB or time. `source` tells the deploy gate's runs (`gate`, the default) from
the scheduled canary's (`canary`, set by `lgtm-smoke canary`): the canary's alert rules read only
its own runs, so a red gate run never counts toward a canary page, and the dashboard shows the
two histories apart. A failed push is one warning line; it never changes the verdict.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .. import retry, settings
from ..protocol import remote_write

if TYPE_CHECKING:
    from ..http import Client

JOB = "lgtm-smoke"
CHECK_SUCCESS = "lgtm_smoke_check_success"  # {check, backend}: 1 passed, 0 failed/error
READBACK_SECONDS = "lgtm_smoke_readback_seconds"  # {backend}: max push→visible latency of its probes
RUN_SUCCESS = "lgtm_smoke_run_success"  # 1 the verdict is green, 0 otherwise
RUN_DURATION = "lgtm_smoke_run_duration_seconds"  # session start → verdict
METRICS = (CHECK_SUCCESS, READBACK_SECONDS, RUN_SUCCESS, RUN_DURATION)
LABELS = ("job", "source", "check", "backend")  # every label name a series may carry
# every value `source` may take, and its default: who ran the suite (--push-source, options.json)
SOURCES: tuple[str, ...] = settings.options()["push_source"].choices or ()
DEFAULT_SOURCE: str = settings.options()["push_source"].default
ATTEMPTS = 3


def build_series(records: list[Any], run_ok: bool, duration_s: float, source: str = DEFAULT_SOURCE,
                 timestamp_ms: int | None = None) -> list[remote_write.Series]:
    """The series of one run by `source` (one of SOURCES). Skipped checks proved nothing and are
    not pushed; a check name seen twice in one area (parametrized) is a success only if every
    instance passed."""
    if source not in SOURCES:  # settings refuse anything else; a new value here is a new series per value
        raise ValueError(f"source {source!r} is not one of {SOURCES}")
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    base = {"job": JOB, "source": source}
    checks: dict[tuple[str, str], float] = {}
    readback: dict[str, float] = {}
    for r in records:
        if r.outcome == "skipped":
            continue
        key = (r.name, r.backend)
        checks[key] = min(checks.get(key, 1.0), 1.0 if r.outcome == "passed" else 0.0)
        if r.latency_ms is not None:
            readback[r.backend] = max(readback.get(r.backend, 0.0), r.latency_ms / 1000)
    out = [remote_write.Series({"__name__": CHECK_SUCCESS, **base, "check": name, "backend": backend}, v, ts)
           for (name, backend), v in sorted(checks.items())]
    out += [remote_write.Series({"__name__": READBACK_SECONDS, **base, "backend": b}, v, ts)
            for b, v in sorted(readback.items())]
    out.append(remote_write.Series({"__name__": RUN_SUCCESS, **base}, 1.0 if run_ok else 0.0, ts))
    out.append(remote_write.Series({"__name__": RUN_DURATION, **base}, float(duration_s), ts))
    return out


def push(client: "Client", records: list[Any], run_ok: bool, duration_s: float, source: str = DEFAULT_SOURCE) -> str:
    """Remote-write the run's series (by `source`) with `client` (an http.Client to the ALB, the
    run's tenant). Returns one line for the terminal; never raises."""
    from ..http import Exchange, Unreachable

    def send() -> Exchange:
        series = build_series(records, run_ok, duration_s, source)  # a fresh timestamp per attempt
        return client.post("/api/v1/push", data=remote_write.encode(series), headers=remote_write.HEADERS,
                           timeout=(3.05, 10.0))

    def again(ex: Exchange) -> bool:
        return ex.status == 429 or ex.status >= 500 or "out of order" in ex.text.lower()

    try:
        try:
            ex = retry.repeat_while(send, again, attempts=ATTEMPTS, first_wait=0.1)
        except Unreachable as e:
            return f"WARNING: --push-results: {e} (the verdict stands)"
        if 200 <= ex.status < 300:
            return (f"pushed {len(build_series(records, run_ok, duration_s, source))} result series to Mimir "
                    f"(tenant {client.tenant!r}, job={JOB!r}, source={source!r}): {RUN_SUCCESS}={1 if run_ok else 0}")
        return f"WARNING: --push-results: {ex.summary()[:300]} (the verdict stands)"
    except Exception as e:  # reporting must never turn a verdict into a traceback
        return f"WARNING: --push-results: {type(e).__name__}: {e} (the verdict stands)"
