"""--push-results: the series one run produces (wire format and bounded labels)."""
from __future__ import annotations

from lgtm_smoke.protocol import remote_write
from lgtm_smoke.verdict import push as rp
from lgtm_smoke.verdict.report import CheckRecord


def _rec(name, backend, outcome, latency_ms=None):
    return CheckRecord(check=f"test_{backend}.py::{name}", name=name, backend=backend, outcome=outcome,
                       latency_ms=latency_ms)


RECORDS = [
    _rec("test_a", "mimir", "passed", 12.0),
    _rec("test_b", "loki", "failed", None),
    _rec("test_c", "loki", "passed", 40.0),
    _rec("test_d", "loki", "passed", 25.0),
    _rec("test_e", "aws", "skipped"),
    _rec("test_p[x]", "grafana", "passed"),
    _rec("test_p[x]", "grafana", "error"),
]


def _by_key(series):
    return {(s.labels["__name__"], s.labels.get("check"), s.labels.get("backend")): s.value for s in series}


def test_series_carry_outcomes_latency_and_run_verdict():
    series = remote_write.decode(remote_write.encode(rp.build_series(RECORDS, False, 1.25, timestamp_ms=1000)))
    got = _by_key(series)
    assert got == {
        (rp.CHECK_SUCCESS, "test_a", "mimir"): 1.0,
        (rp.CHECK_SUCCESS, "test_b", "loki"): 0.0,
        (rp.CHECK_SUCCESS, "test_c", "loki"): 1.0,
        (rp.CHECK_SUCCESS, "test_d", "loki"): 1.0,
        (rp.CHECK_SUCCESS, "test_p[x]", "grafana"): 0.0,  # any failing instance makes the check 0
        (rp.READBACK_SECONDS, None, "mimir"): 0.012,
        (rp.READBACK_SECONDS, None, "loki"): 0.040,  # the slowest probe of the backend
        (rp.RUN_SUCCESS, None, None): 0.0,
        (rp.RUN_DURATION, None, None): 1.25,
    }
    assert all(s.timestamp_ms == 1000 for s in series)


def test_labels_are_bounded_and_fixed():
    series = rp.build_series(RECORDS, True, 2.0)
    assert {s.labels["__name__"] for s in series} == set(rp.METRICS)
    for s in series:
        assert s.labels["job"] == rp.JOB
        assert set(s.labels) - {"__name__"} <= set(rp.LABELS), s.labels  # no run id, ALB or time label
    assert _by_key(series)[(rp.RUN_SUCCESS, None, None)] == 1.0


class _Ex:
    def __init__(self, status, text=""):
        self.status, self.text = status, text

    def summary(self):
        return f"POST /api/v1/push (tenant 't') → {self.status}: {self.text}"


class _Client:
    tenant = "t"

    def __init__(self, answers):
        self.answers, self.bodies = list(answers), []

    def post(self, path, data, headers, timeout):
        assert path == "/api/v1/push" and headers == remote_write.HEADERS
        self.bodies.append(data)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_push_reports_one_line_and_retries_only_transient_answers():
    client = _Client([_Ex(503, "busy"), _Ex(200)])
    line = rp.push(client, RECORDS, True, 1.0)
    assert line.startswith("pushed 9 result series") and len(client.bodies) == 2
    client = _Client([_Ex(404, "404 page not found")])
    line = rp.push(client, RECORDS, True, 1.0)
    assert line.startswith("WARNING: --push-results: POST /api/v1/push") and "→ 404" in line
    assert "\n" not in line and len(client.bodies) == 1


def test_push_never_raises():
    from lgtm_smoke.http import Unreachable

    line = rp.push(_Client([Unreachable("connection refused by h:1", "refused")]), RECORDS, True, 1.0)
    assert line == "WARNING: --push-results: connection refused by h:1 (the verdict stands)"
    line = rp.push(_Client([RuntimeError("boom")]), RECORDS, True, 1.0)
    assert line.startswith("WARNING: --push-results: RuntimeError: boom")


def test_every_series_names_its_source_gate_by_default_canary_when_asked():
    assert rp.SOURCES == ("gate", "canary") and rp.DEFAULT_SOURCE == "gate"
    assert {s.labels["source"] for s in rp.build_series(RECORDS, True, 2.0)} == {"gate"}
    canary = rp.build_series(RECORDS, True, 2.0, "canary", timestamp_ms=1000)
    assert {s.labels["source"] for s in canary} == {"canary"}
    assert "source='canary'" in rp.push(_Client([_Ex(200)]), RECORDS, True, 1.0, "canary")


def test_a_source_outside_the_fixed_set_is_refused():
    """A label that took a new value per run would be a new series per run."""
    import pytest

    with pytest.raises(ValueError, match="not one of"):
        rp.build_series(RECORDS, True, 2.0, "run-4f2a")
    assert rp.push(_Client([_Ex(200)]), RECORDS, True, 1.0, "run-4f2a").startswith("WARNING: --push-results")
