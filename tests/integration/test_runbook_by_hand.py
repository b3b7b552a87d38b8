"""docs/runbook.md "By hand" cannot rot: every bash block of it runs against the reference stack as an
on-call engineer runs it (bash, from the root of the checkout, with `ALB`, `TENANT`, `LGTM_EDGE_SECRET`
and the stack's CA in `CURL_CA_BUNDLE`). Healthy, each backend's push is accepted and its read-back
finds what the payload holds; with a fault, the push or the read fails, and its output names why."""
from __future__ import annotations

import os
import secrets
import subprocess
import time

import pytest
from harness import by_hand, run_by_hand

from lgtm_smoke import payloads

TENANT = "t-runbook"
BACKENDS = ("mimir", "loki", "tempo", "pyroscope")


@pytest.fixture(scope="module")
def blocks(repo_root):
    return by_hand((repo_root / "docs/runbook.md").read_text())


@pytest.fixture
def on_call(stack, blocks, repo_root):
    """on_call(backend, tenant=TENANT, secret=the stack's) -> harness.HandRun of that backend's blocks."""

    def run(backend: str, tenant: str = TENANT, secret: str | None = None, read_for: float = 15.0):
        push, read = blocks.backends[backend]
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "ALB": stack.url, "TENANT": tenant,
               "LGTM_EDGE_SECRET": secret or stack.edge_secret, "CURL_CA_BUNDLE": str(stack.ca_bundle)}
        result = run_by_hand(blocks.preamble, push, read, env, repo_root, read_for=read_for)
        assert stack.edge_secret not in result.push_output + result.read_output, "a by-hand block printed the edge secret"
        return result

    yield run
    stack.set_faults([])


@pytest.mark.parametrize("backend", BACKENDS)
def test_push_is_accepted_and_read_back_finds_it(on_call, backend):
    run = on_call(backend)
    assert run.pushed, f"the {backend} push block failed:\n{run.push_output}"
    assert "HTTP 2" in run.push_output, run.push_output
    assert run.found, f"the {backend} read-back found nothing after {run.reads} tries:\n{run.read_output}"
    assert payloads.FINDS[backend] in run.read_output, run.read_output


FAULTS = [  # (backend, fault, the phase that fails, what its output says)
    ("mimir", "mimir-route-404", "push", "HTTP 404"),  # /api/v1/push falls through to Grafana's /api/* rule
    ("loki", "loki-route-404", "push", "404 not found at the load balancer"),
    ("tempo", "tempo-otlp-misrouted", "push", "HTTP 404"),
    ("tempo", "tempo-prefix-not-stripped", "read", "404"),
    ("pyroscope", "pyroscope-route-404", "push", "404 not found at the load balancer"),
]


@pytest.mark.parametrize("backend, fault, phase, says", FAULTS, ids=[f[1] for f in FAULTS])
def test_a_fault_fails_the_blocks_naming_it(stack, on_call, backend, fault, phase, says):
    stack.set_faults([fault])
    run = on_call(backend, read_for=1.0)
    if phase == "push":
        assert not run.pushed and says in run.push_output, run.push_output
    else:
        assert run.pushed and not run.found and says in run.read_output, (run.push_output, run.read_output)


def test_a_wrong_edge_secret_is_refused_by_the_alb(on_call):
    run = on_call("loki", secret="not-the-secret")
    assert not run.pushed and "401 unauthorized at the load balancer" in run.push_output, run.push_output


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_read_back_without_its_push_finds_nothing(blocks, stack, repo_root, backend):
    """The read-backs are not vacuous: in a tenant nobody pushed to, each one exits 1."""
    now = time.time_ns()
    env = {"PATH": os.environ["PATH"], "ALB": stack.url, "TENANT": f"t-never-pushed-{backend}",
           "LGTM_EDGE_SECRET": stack.edge_secret, "CURL_CA_BUNDLE": str(stack.ca_bundle),
           "NOW_NS": str(now), "NOW_S": str(now // 10**9), "TRACE_ID": secrets.token_hex(16)}
    read = blocks.backends[backend][1]
    proc = subprocess.run(["bash", "-c", "set -euo pipefail\n" + read], cwd=repo_root, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0 and payloads.FINDS[backend] not in proc.stdout, proc.stdout + proc.stderr
