"""Every shipped smoke check has a runbook entry (the verdict links to it by name); the by-hand
commands send every payload through the ALB with the edge secret kept out of sight."""
import ast
import re
import subprocess
from urllib.parse import quote

import pytest
from harness import by_hand

from lgtm_smoke import payloads
from lgtm_smoke.plugin import SUITE
from lgtm_smoke.protocol import loki_push, remote_write


def smoke_check_names() -> set[str]:
    names = set()
    for path in (p for folder in SUITE for p in folder.rglob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_every_smoke_check_has_a_runbook_entry(repo_root):
    headings = set(re.findall(r"^### (test_\w+)\s*$", (repo_root / "docs/runbook.md").read_text(), re.M))
    checks = smoke_check_names()
    assert checks, "no smoke checks found"
    assert not checks - headings, f"checks without a runbook entry: {sorted(checks - headings)}"
    assert not headings - checks, f"runbook entries for checks that no longer exist: {sorted(headings - checks)}"


# --- "By hand": the commands an on-call engineer pastes (run against the reference stack by
# tests/integration/test_runbook_by_hand.py; here, what they must say) ---------------------------------
BACKENDS = {"mimir", "loki", "tempo", "pyroscope"}
SECRET_AS_HEADER = "-H @<(printf 'X-LGTM-Edge-Secret: %s\\n' \"$LGTM_EDGE_SECRET\")"


@pytest.fixture
def by_hand_blocks(repo_root):
    return by_hand((repo_root / "docs/runbook.md").read_text())


def test_by_hand_has_a_push_and_a_read_per_backend(by_hand_blocks):
    assert by_hand_blocks.languages == {"bash"}, "every block of the by-hand section is run by the test: fence it ```bash"
    assert len(by_hand_blocks.preamble) == 1, "one preamble block (the environment check) before the backends"
    assert set(by_hand_blocks.backends) == BACKENDS
    for backend, blocks in by_hand_blocks.backends.items():
        assert len(blocks) == 2, f"### {backend.title()} by hand: expected a push block and a read block, got {len(blocks)}"


def test_by_hand_sends_every_payload_file(by_hand_blocks):
    text = "\n".join(b for blocks in by_hand_blocks.backends.values() for b in blocks)
    unsent = [name for name in payloads.FILES if f"payloads/{name}" not in text and name != "mimir-remote-write.bin"]
    assert not unsent, f"payloads/ files no by-hand block sends: {unsent}"
    assert quote(payloads.PYROSCOPE_INGEST_NAME, safe="") in by_hand_blocks.backends["pyroscope"][0], (
        f"the Pyroscope push must name the encoders' series {payloads.PYROSCOPE_INGEST_NAME!r}")


def test_by_hand_hands_the_edge_secret_to_curl_on_a_descriptor_only(by_hand_blocks):
    """Never echoed, never in a command line `ps` shows: only as a header file curl reads."""
    for block in [*by_hand_blocks.preamble, *(b for blocks in by_hand_blocks.backends.values() for b in blocks)]:
        for line in block.splitlines():
            rest = line.replace(SECRET_AS_HEADER, "").replace("${LGTM_EDGE_SECRET:?", "")
            assert "LGTM_EDGE_SECRET" not in rest, f"the edge secret used otherwise than as {SECRET_AS_HEADER}: {line}"
        if "curl" in block:
            assert block.count("curl ") == block.count(SECRET_AS_HEADER), f"a curl without the edge secret:\n{block}"


def test_by_hand_preamble_says_in_one_line_what_is_not_set(by_hand_blocks, repo_root):
    proc = subprocess.run(["bash", "-c", by_hand_blocks.preamble[0]], cwd=repo_root, env={"PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["bash: line 1: ALB: export ALB=https://<the ALB DNS name>"]


def test_by_hand_pushes_carry_the_encoders_headers(by_hand_blocks):
    pushes = {"mimir": remote_write.HEADERS, "loki": loki_push.JSON_HEADERS, "tempo": {"Content-Type": "application/json"}}
    for backend, headers in pushes.items():
        missing = [f"{k}: {v}" for k, v in headers.items() if f"'{k}: {v}'" not in by_hand_blocks.backends[backend][0]]
        assert not missing, f"the {backend} push block lacks the headers its encoder's body needs: {missing}"
