"""pytest's logging plugin iterates logging's logger dict in the main thread at every test phase
while the checks' threads import modules that add loggers; smoke runs make that iteration a
snapshot (an INTERNALERROR "dictionary changed size during iteration" otherwise)."""
from __future__ import annotations

import itertools
import logging

import pytest

from lgtm_smoke import runner

_names = itertools.count()


def add_loggers_while_iterating() -> int:
    logging.getLogger("lgtm-smoke-test-thread-import.first")  # something to iterate over
    seen = 0
    for _ in logging.Logger.manager.loggerDict.values():  # what _pytest.logging.catching_logs does
        logging.getLogger(f"lgtm-smoke-test-thread-import.{next(_names)}")  # what a lazy import does
        seen += 1
    return seen


def test_a_logger_added_during_the_iteration_breaks_a_plain_dict(monkeypatch):
    monkeypatch.setattr(logging.Logger.manager, "loggerDict", dict(logging.Logger.manager.loggerDict))
    with pytest.raises(RuntimeError, match="dictionary changed size during iteration"):
        add_loggers_while_iterating()


def test_smoke_runs_make_it_a_snapshot(monkeypatch):
    logging.getLogger("lgtm-smoke-test-thread-import.first")
    before = dict(logging.Logger.manager.loggerDict)
    monkeypatch.setattr(logging.Logger.manager, "loggerDict", dict(before))
    runner.loggers_safe_to_create_in_threads()
    assert add_loggers_while_iterating() == len(before)
    assert all(logging.Logger.manager.loggerDict[k] is v for k, v in before.items())
    assert logging.getLogger("lgtm-smoke-test-thread-import.x") is logging.Logger.manager.loggerDict[
        "lgtm-smoke-test-thread-import.x"]
