"""The Grafana password lives only inside GrafanaCredentials, as the suite's one secret type
(`settings.Secret`): it signs requests and shows up in no repr, str, message, pickle or copy
of the run's settings."""
from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
import requests

from lgtm_smoke.backends.grafana.client import GrafanaCredentials
from lgtm_smoke.outcome import CheckFailed
from lgtm_smoke.settings import Secret, Settings, parse_alb

SECRET = "pw-unit-3f9a"


def test_repr_and_str_hide_the_password():
    creds = GrafanaCredentials("admin", SECRET, "--grafana-password")
    assert SECRET not in repr(creds) and SECRET not in str(creds) and "***" in repr(creds)
    settings = Settings(parse_alb("127.0.0.1:1"), "t", 3.0, "0" * 12, grafana_password=Secret(SECRET))
    assert SECRET not in repr(settings) and SECRET not in str(dataclasses.asdict(settings))
    assert copy.deepcopy(creds).password is creds.password  # a copy never duplicates the secret


def test_the_password_is_the_suites_one_secret_type():
    assert isinstance(GrafanaCredentials("admin", SECRET, "x").password, Secret)
    held = Secret(SECRET)
    assert GrafanaCredentials("admin", held, "x").password is held


def test_it_signs_requests_with_basic_auth():
    prepared = requests.Request("GET", "http://grafana.invalid/api/user", auth=GrafanaCredentials("admin", SECRET, "x")).prepare()
    assert prepared.headers["Authorization"].startswith("Basic ")


def test_it_cannot_be_pickled():
    with pytest.raises(TypeError):
        pickle.dumps(GrafanaCredentials("admin", SECRET, "x"))


def test_missing_password_fails_with_one_line_saying_how_to_pass_it():
    creds = GrafanaCredentials("admin", None, None)
    assert not creds.present
    with pytest.raises(CheckFailed) as e:
        creds.require()
    assert "\n" not in e.value.cause and "--grafana-password" in e.value.cause and "LGTM_GRAFANA_PASSWORD" in e.value.cause
