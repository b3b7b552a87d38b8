"""The one resolver: option > environment > tfvars > default, the shipped-suite switch, and
secrets that never show."""
from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from lgtm_smoke import settings as st


class FakeConfig:
    def __init__(self, **options):
        self.options = options

    def getoption(self, name, default=None):
        return self.options.get(name, default)


@pytest.mark.parametrize("options, env, tfvars, expected", [
    ({"tenant": "from-option"}, {"LGTM_TENANT": "from-env"}, {"tenant_id": "from-tfvars"}, ("from-option", "--tenant")),
    ({}, {"LGTM_TENANT": "from-env"}, {"tenant_id": "from-tfvars"}, ("from-env", "LGTM_TENANT")),
    ({}, {}, {"tenant_id": "from-tfvars"}, ("from-tfvars", "tenant_id in x.tfvars")),
    ({}, {}, {}, (None, None)),
])
def test_option_beats_env_beats_tfvars_beats_default(monkeypatch, options, env, tfvars, expected):
    monkeypatch.delenv("LGTM_TENANT", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert st.pick(FakeConfig(**options), "tenant", tfvars, "x.tfvars") == expected


def test_a_stack_plugin_setting_the_option_beats_the_environment(monkeypatch):
    """--devstack sets config.option.grafana_password: the shell's LGTM_GRAFANA_PASSWORD loses."""
    monkeypatch.setenv("LGTM_GRAFANA_PASSWORD", "prod-password")
    assert st.pick(FakeConfig(grafana_password="stack-password"), "grafana_password") == \
        ("stack-password", "--grafana-password")


def test_flags_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("LGTM_INSECURE", "true")
    assert st.pick(FakeConfig(insecure=False), "insecure") == (True, "LGTM_INSECURE")
    assert st.pick(FakeConfig(), "readback_timeout") == (30, None)


@pytest.mark.parametrize("expr, alb, wants", [
    ("smoke", None, True),
    ("smoke and aws", None, True),
    ("smoke and (mimir or loki) and not security", None, True),
    ("not smoke", None, False),
    ("not smoke", "http://alb", False),  # an explicit exclusion wins over an ALB in the environment
    ("not slow", None, False),
    ("not slow", "http://alb", True),  # neutral expression: an ALB to check selects the suite
    ("", "http://alb", True),
    ("smokey", None, False),  # a marker that merely contains the word
    ("mimir or smoke", None, False),
])
def test_wants_smoke_reads_the_marker_expression_not_a_substring(monkeypatch, expr, alb, wants):
    monkeypatch.delenv("LGTM_ALB", raising=False)
    assert st.wants_smoke(FakeConfig(markexpr=expr, alb=alb)) is wants


def test_not_smoke_in_the_repo_runs_the_projects_own_tests(repo_root):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "not smoke", "--collect-only", "-q",
                           "-p", "no:cacheprovider"], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert "tests/unit/test_settings.py" in proc.stdout and "lgtm_smoke/backends" not in proc.stdout


def test_secrets_never_show_and_are_redacted_everywhere():
    secret = st.Secret("s3cr3t-value")
    assert "s3cr3t" not in repr(secret) + str(secret) and secret.reveal() == "s3cr3t-value"
    assert st.redact("header X-LGTM-Edge-Secret: s3cr3t-value sent") == "header X-LGTM-Edge-Secret: *** sent"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


@pytest.mark.parametrize("env, expected", [(None, "gate"), ("canary", "canary"), ("gate", "gate")])
def test_push_source_defaults_to_gate_and_takes_canary(monkeypatch, env, expected):
    monkeypatch.delenv("LGTM_PUSH_SOURCE", raising=False)
    if env:
        monkeypatch.setenv("LGTM_PUSH_SOURCE", env)
    value, where = st.pick(FakeConfig(), "push_source")
    assert st.parse_choice(value, "push_source", where or "--push-source") == expected


def test_a_push_source_outside_its_choices_is_one_line_to_fix(monkeypatch):
    monkeypatch.setenv("LGTM_PUSH_SOURCE", "nightly")
    value, where = st.pick(FakeConfig(), "push_source")
    with pytest.raises(st.UsageError, match=r"^LGTM_PUSH_SOURCE 'nightly' must be one of: gate, canary$"):
        st.parse_choice(value, "push_source", where)
