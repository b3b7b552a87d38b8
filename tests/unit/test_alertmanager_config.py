"""The Mimir Alertmanager config the image ships for the stack tenant (infra/images/mimir/Dockerfile,
an inline here-document BuildKit expands with the build-args): as BuildKit writes it, it is a
config the real Alertmanager accepts (`amtool check-config`, Debian's prometheus-alertmanager: the
loader Mimir's `local` store runs on every file), and every alert goes to the SNS topic named by
the build-arg, with severity as a message attribute for the subscriptions' filter policies.

What stays unproven here: that Mimir 2.17 starts with it (no Mimir binary, no Docker) and that SNS
accepts the publish (no AWS); see docs/runbook.md "The canary (alerts)"."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "infra/images/mimir/Dockerfile"
TOPIC = "arn:aws:sns:ap-northeast-2:123456789012:lgtm-prod-alerts"
BUILD_ARGS = {"PAGE_TOPIC_ARN": TOPIC, "TENANT": "jsj-lgtm-header"}
_HEREDOC = re.compile(r"(?m)^COPY <<(\w+) (/etc/mimir/alertmanager/\$\{TENANT\}\.yaml)\n(.*?)^\1$", re.S)


def heredoc(dockerfile: str) -> tuple[str, str]:
    """(destination, body) of the Dockerfile's Alertmanager config here-document."""
    (found,) = _HEREDOC.findall(dockerfile)
    return found[1], found[2]


def expand(body: str, args: dict[str, str]) -> str:
    """`body` as BuildKit writes an unquoted here-document: ${NAME} replaced by its build-arg.
    Anything else BuildKit would touch (another `$`, a backslash) is refused, not guessed."""
    out = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], body)
    assert "$" not in out and "\\" not in out, "the here-document holds a `$` or backslash BuildKit would rewrite"
    return out


def amtool_check(text: str, where: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("amtool")
    if binary is None:
        pytest.fail("amtool is missing: apt-get install prometheus-alertmanager (.ci/run installs it)")
    path = where / "alertmanager.yaml"
    path.write_text(text)
    return subprocess.run([binary, "check-config", str(path)], capture_output=True, text=True, timeout=60)


def shipped() -> str:
    return expand(heredoc(DOCKERFILE.read_text())[1], BUILD_ARGS)


def test_amtool_accepts_the_config_as_buildkit_writes_it(tmp_path):
    result = amtool_check(shipped(), tmp_path)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_amtool_rejects_a_receiver_that_names_no_topic(tmp_path):
    """Proof the check above can fail: the SNS receiver without its topic is refused by name."""
    broken = re.sub(r"(?m)^\s+- topic_arn: .*\n\s+", "      - ", shipped())
    assert "topic_arn" not in broken
    result = amtool_check(broken, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "Topic ARN" in result.stdout + result.stderr, result.stdout + result.stderr


def test_every_alert_is_published_to_the_build_arg_topic_with_its_severity():
    config = yaml.safe_load(shipped())
    receivers = {r["name"]: r for r in config["receivers"]}
    used = {config["route"]["receiver"], *(r["receiver"] for r in config["route"].get("routes", []))}
    assert used <= set(receivers) and len(receivers) == 1, config
    (sns,) = receivers[config["route"]["receiver"]]["sns_configs"]
    assert sns["topic_arn"] == TOPIC and set(sns) - {"topic_arn", "sigv4", "subject", "message", "attributes"} == set()
    assert sns["sigv4"] == {}  # the task role's credentials (the SDK's chain) and AWS_REGION: no key in the image
    assert sns["attributes"]["severity"] == "{{ .CommonLabels.severity }}"
    assert "alertname" in config["route"]["group_by"]  # a rule has one severity: so does each notification


def test_the_file_lands_in_the_tenants_place_of_the_local_store():
    destination, _ = heredoc(DOCKERFILE.read_text())
    store = yaml.safe_load((REPO / "infra/images/mimir/config.yaml").read_text())["alertmanager_storage"]
    assert store["backend"] == "local" and destination == f"{store['local']['path']}/${{TENANT}}.yaml"


@pytest.mark.parametrize("body, cause", [("topic_arn: ${PAGE_TOPIC_ARN}\nx: {{ $labels }}\n", "`$`"),
                                         ("topic_arn: ${PAGE_TOPIC_ARN}\nx: a\\nb\n", "backslash")])
def test_text_buildkit_would_rewrite_is_refused(body, cause):
    with pytest.raises(AssertionError, match=re.escape(cause)):
        expand(body, BUILD_ARGS)


def test_ci_installs_amtool_like_nginx_and_prometheus():
    """A machine without amtool must fail the test above loudly, and `.ci/run` must install it."""
    ci = (REPO / ".ci/run").read_text()
    assert re.search(r"(?m)^command -v amtool .*\|\| need_apt\+=\(prometheus-alertmanager\)$", ci), ci[:1500]
