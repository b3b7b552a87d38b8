"""The smoke gate as written is the gate that runs (issue 11).

`.github/workflows/smoke-gate.yaml` is read, and its `smoke-gate` job's steps are run in
order, as the runner would run them (actions_runner.py), against the running reference
stack (real nginx as the ALB, with its own CA and edge secret) and the seeded moto account
(IAM enforced, the smoke role's policy parsed from infra/terraform/modules/iam/smoke.tf).
Nothing of the job is rewritten for the test: its `run:` scripts run as they are, with the
`env:` it declares and its `${{ ... }}` expressions given these values:

    vars.ALB_HOSTNAME        the reference stack's host:port (its certificate covers it)
    vars.AWS_SMOKE_ROLE_ARN  the seeded account's smoke role (02-iam's output smoke_role_arn)
    inputs.image_tags        the tags the seeded account's services run (what the deploy built)
    github.run_id            a number
    steps.vars.outputs.*     what the job's own "Read common.tfvars" step wrote to $GITHUB_OUTPUT

The `uses:` steps are actions, which run only on GitHub; each has a stand-in here:
- actions/checkout: the workspace is a copy of this checkout's files (tracked and new);
- actions/setup-python: a fresh Python environment (a venv of this test's interpreter, made
  once per module: setup-python's tool cache), first on PATH;
- actions/cache: restores nothing (a cold cache: the job must not depend on it);
- aws-actions/configure-aws-credentials: sts:AssumeRole of `role-to-assume` with
  `role-session-name` in the moto account (the action does AssumeRoleWithWebIdentity with
  GitHub's OIDC token; the seeded role trusts the seed's admin instead), exporting what the
  action exports: AWS_ACCESS_KEY_ID/SECRET/SESSION_TOKEN, AWS_REGION, AWS_DEFAULT_REGION;
- actions/upload-artifact: records which of its paths exist.
The install step runs as written: the suite from the lock (tools/install.sh suite), hash-checked,
into that fresh environment, which the job's pytest then runs from. The `aws` command is the
runner's own (GitHub's images ship it); here it is the test environment's, further down PATH.

The runner's environment, what a self-hosted runner in the stack's network would have:
- AWS_ENDPOINT_URL (read by the aws CLI and every AWS SDK) and LGTM_AWS_ENDPOINT_URL (the
  suite's, so its verdict says where AWS ran): the network sends AWS calls to the moto
  account, as the job passes no --aws-endpoint-url;
- LGTM_CA_BUNDLE: the stack's CA, as a runner inside a network with an internal CA is given
  its CA; the job verifies the certificate of https://${{ vars.ALB_HOSTNAME }};
- LGTM_ALB_HTTP: the stack's plain-HTTP listener, which cannot be on port 80 on a machine
  several stacks share (the real ALB's is; the suite derives it from --alb there);
- no AWS credentials, profiles or LGTM_* settings from this shell.

The Grafana password and the edge secret are the reference stack's own; they reach the
suite only through the job's `aws secretsmanager get-secret-value`, run as the smoke role:
the test writes them into the account's secrets `<stack>/grafana/admin-password` and
`<stack>/alb/edge-secret` (as Terraform does) and never passes them any other way.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from actions_runner import Context, JobRun, Runner, load_job
from lgtm_refstack.aws import seed as seeding
from lgtm_refstack.stack import ReferenceStack

from infra.preflight import CHECKS, Infra, problems_of
from lgtm_smoke.outcome import run_check

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
GATE_COMMAND = "pytest -m smoke"
REPORTS = ("smoke.xml", "smoke.json", "smoke-summary.md")
AFTER = ("smoke-after.xml", "smoke-after.json")  # the verdict after the deployments ended
IMAGE_CHECK = "test_running_image_is_expected"


def gate_jobs() -> list[tuple[str, str]]:
    """(workflow, job) of every job that runs the gate itself (steps, one running pytest -m smoke);
    the callers reach it with `uses:` (test_every_deploy_path_calls_the_gate_after_ecs_...)."""
    out = []
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for job_id, job in ((yaml.safe_load(path.read_text()) or {}).get("jobs") or {}).items():
            if any(GATE_COMMAND in str(st.get("run", "")) for st in job.get("steps") or []):
                out.append((path.name, job_id))
    return out


GATES = gate_jobs()


# --- the stack and the account --------------------------------------------------------------------
@pytest.fixture(scope="module")
def account(aws_account):
    return aws_account  # tests/conftest.py: one seeded account per process (tests/aws uses it too)


@pytest.fixture(scope="module")
def stack(account):
    # The tenant the job reads from common.tfvars: Grafana's datasources and Alloy use it too.
    tenant = account.seeded.tf["tenant_id"]
    with ReferenceStack(tenants=(tenant,), tempo_search_lag=0.3) as s:
        # The account's secrets hold what this stack accepts, written as the seed's admin (as
        # Terraform writes them); the smoke role may only read them (its policy, smoke.tf).
        sm, arns = account.seeded.client("secretsmanager"), account.seeded.secrets
        seeded = {key: sm.get_secret_value(SecretId=arns[key])["SecretString"] for key in ("grafana", "edge")}
        sm.put_secret_value(SecretId=arns["grafana"], SecretString=s.grafana_password)
        sm.put_secret_value(SecretId=arns["edge"], SecretString=s.edge_secret)
        yield s
        for key, value in seeded.items():  # the shared account as the seed left it
            sm.put_secret_value(SecretId=arns[key], SecretString=value)


def built_tags(account, **override: str) -> str:
    seeded = account.seeded
    tags = {svc: seeded.image_tag(svc) for svc in seeded.images}
    tags.update(override)
    return ",".join(f"{svc}={tag}" for svc, tag in tags.items())


# --- the stand-ins for the job's actions ---------------------------------------------------------
def checkout(ctx: Context) -> str:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    copied = 0
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():  # a tracked file deleted in this worktree is not in the checkout either
            dest = ctx.workspace / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(src.read_bytes())
            copied += 1
    return f"{copied} files of this checkout copied to the workspace"


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory) -> Path:
    """The interpreter setup-python gives the job: fresh, with nothing of this test's environment."""
    venv = tmp_path_factory.mktemp("setup-python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    return venv / "bin"


def setup_python(bindir: Path):
    def action(ctx: Context) -> str:
        ctx.env["PATH"] = f"{bindir}{os.pathsep}{ctx.env['PATH']}"
        return f"a fresh python {sys.version.split()[0]} first on PATH (asked for {ctx.with_.get('python-version')})"

    return action


def cold_cache(ctx: Context) -> str:
    return f"cache miss for {ctx.with_.get('key')} (nothing restored)"


def configure_aws_credentials(account):
    def action(ctx: Context) -> str:
        creds = account.seeded.client("sts").assume_role(
            RoleArn=ctx.with_["role-to-assume"], RoleSessionName=ctx.with_["role-session-name"])["Credentials"]
        region = ctx.with_["aws-region"]
        ctx.env.update({
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        })
        return f"assumed {ctx.with_['role-to-assume']} in {region}"

    return action


def upload_artifact(ctx: Context) -> str:
    paths = [p.strip() for p in ctx.with_.get("path", "").splitlines() if p.strip()]
    ctx.uploads[ctx.with_.get("name", "artifact")] = found = [ctx.workspace / p for p in paths
                                                             if (ctx.workspace / p).is_file()]
    return f"{len(found)} of {len(paths)} files: {', '.join(p.name for p in found)}"


# --- one run of the gate -----------------------------------------------------------------------------
_RUN_IDS = iter(range(int(time.time()) % 100000, 10**9))


def run_gate(workflow: str, job_id: str, stack, account, runner_python: Path, tmp_path: Path, image_tags: str,
             deploy_started: str = "") -> JobRun:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    run_id = str(next(_RUN_IDS))
    host = stack.url.split("://", 1)[1].rstrip("/")
    shell = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LGTM_", "GITHUB_", "PYTEST_"))}
    runner_env = {
        **shell,
        "PATH": f"{shell.get('PATH', '')}{os.pathsep}{Path(sys.executable).parent}",  # the runner's own `aws` command
        "HOME": str(home),  # no ~/.aws of this machine
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_RUN_ID": run_id,
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        # no credentials of this machine: only what the credentials step exports
        **{k: v for k, v in account.env.items() if k in ("AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE",
                                                           "AWS_SHARED_CREDENTIALS_FILE")},
        # the runner's network: AWS is the moto account; the ALB's certificate is from an internal CA
        "AWS_ENDPOINT_URL": account.endpoint_url,
        "LGTM_AWS_ENDPOINT_URL": account.endpoint_url,
        "LGTM_CA_BUNDLE": str(stack.ca_bundle),
        "LGTM_ALB_HTTP": stack.http_url,
    }
    contexts = {
        "vars.ALB_HOSTNAME": host,
        "vars.AWS_SMOKE_ROLE_ARN": f"arn:aws:iam::{seeding.ACCOUNT}:role/{account.seeded.name}-smoke",
        "inputs.image_tags": image_tags,
        "inputs.deploy_started": deploy_started,  # "": the caller passes none (a plain gate)
        "github.run_id": run_id,
        "runner.os": "Linux",
    }
    actions = {
        "actions/checkout": checkout,
        "actions/setup-python": setup_python(runner_python),
        "actions/cache": cold_cache,
        "aws-actions/configure-aws-credentials": configure_aws_credentials(account),
        "actions/upload-artifact": upload_artifact,
    }
    runner = Runner(workspace, runner_env, contexts, actions, [], timeout=600)
    return runner.run(load_job(WORKFLOWS / workflow, job_id))


def reports(run: JobRun) -> dict[str, str]:
    return {p.name: p.read_text() for files in run.uploads.values() for p in files}


def junit_failures(xml: str) -> dict[str, str]:
    out = {}
    for case in ET.fromstring(xml).iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is not None:
            out[case.get("name", "")] = problem.get("message") or ""
    return out


def assert_no_secret_shown(run: JobRun, stack) -> None:
    """The job masks both secrets, and nothing printed them in the first place: the log and the
    reports hold neither (masking is the runner's second line of defence, not the suite's)."""
    # (booleans first: pytest would print the values of a failed `assert value in ...`)
    for what, value in (("Grafana password", stack.grafana_password), ("edge secret", stack.edge_secret)):
        masked = value in run.masks
        assert masked, f"the job does not mask the {what} (::add-mask::)"
        shown = [where for where, text in (("the job's output", run.output), ("the job summary", run.summary),
                                           *reports(run).items()) if value in text]
        assert not shown, f"the {what} appears in {', '.join(shown)}"


def pushed(stack, metric: str, since: float) -> list[float]:
    """Values of `metric` (job lgtm-smoke) the stack's Mimir holds from after `since`."""
    tenant = stack.prestart_tenants[0]
    answers = []
    with stack.session() as session:
        for q in (f'{metric}{{job="lgtm-smoke"}}', f'timestamp({metric}{{job="lgtm-smoke"}})'):
            r = session.get(f"{stack.url}/prometheus/api/v1/query", params={"query": q},
                            headers={"X-Scope-OrgID": tenant}, timeout=10)
            assert r.status_code == 200, r.text
            # keyed by labels without __name__ (timestamp() drops it)
            answers.append({tuple(sorted((k, v) for k, v in s["metric"].items() if k != "__name__")): float(s["value"][1])
                            for s in r.json()["data"]["result"]})
    values, stamps = answers
    return [v for key, v in values.items() if stamps.get(key, 0) >= since]


# --- the callers ----------------------------------------------------------------------------------
def test_every_deploy_path_calls_the_gate_after_ecs_with_the_tags_it_built():
    """Both deploy workflows call the one gate, after their ECS stage, passing the image tags the
    run built: the preflight checks that say so, run on this tree (not a copy of their logic)."""
    callers = {
        path.name
        for path in WORKFLOWS.glob("*.y*ml")
        for job in ((yaml.safe_load(path.read_text()) or {}).get("jobs") or {}).values()
        if str(job.get("uses", "")).endswith("/smoke-gate.yaml")
    }
    assert {"terraform.yaml", "deploy-ecs.yaml"} <= callers, callers
    infra = Infra(REPO)
    for name in ("smoke_gate_after_every_ecs_deploy", "smoke_gate_expects_built_tags"):
        outcome = run_check(CHECKS[name], infra)
        assert outcome.ok, f"{name}: {problems_of(outcome)}"


def test_the_gate_is_one_job():
    assert GATES == [("smoke-gate.yaml", "smoke-gate")], (
        f"jobs running `{GATE_COMMAND}` themselves: {GATES}; every deploy path must call smoke-gate.yaml")


# --- the gate, run ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("workflow", "job_id"), GATES)
def test_the_gate_is_green_on_a_healthy_deploy(workflow, job_id, stack, account, runner_python, tmp_path):
    since = time.time()
    run = run_gate(workflow, job_id, stack, account, runner_python, tmp_path, built_tags(account))
    assert run.returncode == 0, run.log()[-6000:]
    assert [s.kind for s in run.steps].count("not run") == 0, run.log()[-3000:]
    files = reports(run)
    assert set(files) == set(REPORTS), f"uploaded: {sorted(files)}"
    report = json.loads(files["smoke.json"])
    assert report["verdict"] == "pass" and report["headline"].startswith("GREEN: all "), report["headline"]
    assert junit_failures(files["smoke.xml"]) == {}
    # the AWS half ran as the smoke role, image tags included: nothing of it was skipped
    aws = [c for c in report["checks"] if c.get("area") == "aws" or c.get("backend") == "aws"]
    assert aws and all(c["outcome"] == "passed" for c in aws), [(c["name"], c["outcome"]) for c in aws]
    assert any(c["name"] == IMAGE_CHECK for c in aws)
    assert report["headline"] in run.summary  # --summary-md appended the verdict to the job summary
    assert_no_secret_shown(run, stack)
    # --push-results: the outcome is in the stack's Mimir, under the job's tenant
    assert "pushed " in run.output and "result series to Mimir" in run.output, run.log()[-3000:]
    assert pushed(stack, "lgtm_smoke_run_success", since) == [1.0]
    # --publish-cloudwatch, as the smoke role: 0 failed checks for every service, the deploy series
    assert "CloudWatch: published LGTM/Smoke/FailedChecks {Source=deploy} alloy=0, grafana=0, loki=0, mimir=0, " \
           "pyroscope=0, tempo=0" in run.output, run.log()[-3000:]


@pytest.mark.parametrize(("workflow", "job_id"), GATES)
def test_the_gate_is_red_naming_a_route_the_alb_lost(workflow, job_id, stack, account, runner_python, tmp_path):
    since = time.time()
    stack.set_faults(["loki-route-404"])
    try:
        run = run_gate(workflow, job_id, stack, account, runner_python, tmp_path, built_tags(account))
    finally:
        stack.set_faults([])
    assert run.returncode == 1, run.log()[-6000:]
    files = reports(run)
    assert set(files) == set(REPORTS), "the reports must be uploaded when the gate is red (if: always())"
    report = json.loads(files["smoke.json"])
    assert report["verdict"] == "fail"
    # one root cause, Loki's target group, named in the headline; every check that is not green is about Loki
    assert [rc["precondition"] for rc in report["root_causes"]] == ["target_group.loki"], report["root_causes"]
    assert report["headline"].startswith("RED: ") and "/loki/" in report["headline"], report["headline"]
    red = [(c["name"], c["backend"]) for c in report["checks"] if c["outcome"] != "passed"]
    assert red and all("loki" in (name + backend) for name, backend in red), red
    assert_no_secret_shown(run, stack)
    assert pushed(stack, "lgtm_smoke_run_success", since) == [0.0]
    # Loki's checks are blocked (an ALB rule or Loki itself: the suite cannot tell), so nothing is
    # published for Loki: missing data never rolls back
    assert "loki: not checked (blocked by target_group.loki): nothing published" in run.output, run.log()[-3000:]
    assert "loki=" not in run.output.split("CloudWatch: published", 1)[-1].splitlines()[0]


@pytest.mark.parametrize(("workflow", "job_id"), GATES)
def test_the_gate_says_infra_and_rolls_back_nothing_when_an_alb_rule_broke(workflow, job_id, stack, account,
                                                                          runner_python, tmp_path):
    """edge-auth-off: the ALB's rules lost the edge-secret condition. Every backend is healthy, so
    every service publishes 0 (no alarm fires); the failures are the ALB's, which a rollback of a
    service cannot mend: the summary says so."""
    stack.set_faults(["edge-auth-off"])
    try:
        run = run_gate(workflow, job_id, stack, account, runner_python, tmp_path, built_tags(account))
    finally:
        stack.set_faults([])
    assert run.returncode == 1, run.log()[-6000:]
    assert "CloudWatch: published LGTM/Smoke/FailedChecks {Source=deploy} alloy=0, grafana=0, loki=0, mimir=0, " \
           "pyroscope=0, tempo=0" in run.output, run.log()[-3000:]
    assert "infra: not rolled back, revert the change: test_" in run.output, run.log()[-3000:]
    assert "infra: not rolled back" in run.summary, run.summary[-2000:]


@pytest.mark.parametrize(("workflow", "job_id"), GATES)
def test_the_gate_is_red_when_the_deploy_did_not_roll_the_image_it_built(workflow, job_id, stack, account, runner_python, tmp_path):
    """inputs.image_tags names a Loki tag the service does not run (the build pushed it, the
    service still runs the old one): exactly the running-image check fails, naming both tags."""
    running = account.seeded.image_tag("loki")
    built = running.rsplit("-", 2)[0] + "-20990101-000000"
    run = run_gate(workflow, job_id, stack, account, runner_python, tmp_path, built_tags(account, loki=built))
    assert run.returncode == 1, run.log()[-6000:]
    files = reports(run)
    failures = junit_failures(files["smoke.xml"])
    assert list(failures) == [IMAGE_CHECK], failures
    assert built in failures[IMAGE_CHECK] and running in failures[IMAGE_CHECK], failures[IMAGE_CHECK]
    assert_no_secret_shown(run, stack)


# --- the deploy → gate path: the verdict rolls back what it finds broken --------------------------------
@contextlib.contextmanager
def deploy(account, stack, svc: str, fault: str | None = None, speed: float = 2.0):
    """60-ecs applied without waiting: `svc` gets a new task definition (UpdateService), which the
    account serves as ECS does (deployment IN_PROGRESS, its smoke alarm watched, rollback on;
    refstack/lgtm_refstack/aws/deployment_alarms.py) with time running `speed` × faster (the
    60 s bake in 30 s: still longer than the gate's first verdict on a busy machine, as it must be on AWS). `fault`
    stands for the new revision: active from the deploy, taken away when ECS rolls `svc` back.
    Afterwards the account is as the seed left it."""
    from lgtm_refstack.aws import deployment_alarms

    rooms = deployment_alarms.ALARMS
    t0 = time.time()
    clock, hooks = rooms.clock, list(rooms.on_rollback)
    rooms.clock = lambda: t0 + (time.time() - t0) * speed
    if fault:
        stack.set_faults([fault])
        rooms.on_rollback.append(lambda name: stack.set_faults([]) if name == svc else None)
    previous = seeding.ecs_service(account.seeded, svc).task_definition.rsplit("/", 1)[-1]
    try:
        with seeding.deploying(account.seeded, svc, "9.9.9-next") as new:
            yield new.rsplit("/", 1)[-1], previous
    finally:
        stack.set_faults([])
        rooms.clock, rooms.on_rollback[:] = clock, hooks


DEPLOY_GATES = [g for g in GATES if "deploy_started" in str(load_job(WORKFLOWS / g[0], g[1]))]


@pytest.mark.parametrize(("workflow", "job_id"), DEPLOY_GATES)
def test_a_deploy_that_breaks_loki_is_rolled_back_and_the_verdict_after_is_green(workflow, job_id, stack, account,
                                                                                 runner_python, tmp_path):
    """loki-no-auth stands for a new Loki revision that is up and healthy to the ALB but accepts
    writes without a tenant (what the circuit breaker cannot see). The gate runs while the
    deployment is IN_PROGRESS, publishes loki=1, the alarm fails the deployment and ECS returns
    Loki to its previous task definition; the verdict after it is green, and the job summary
    names both task definitions and the alarm. The job still fails: the deploy did not go through."""
    since = f"{time.time():.3f}"  # the account was seeded just before: its deployments are older
    with deploy(account, stack, "loki", fault="loki-no-auth") as (new, previous):
        run = run_gate(workflow, job_id, stack, account, runner_python, tmp_path, built_tags(account), deploy_started=since)
    assert run.returncode == 1, run.log()[-6000:]
    assert "CloudWatch: published LGTM/Smoke/FailedChecks {Source=deploy} alloy=0, grafana=0, loki=1, mimir=0, " \
           "pyroscope=0, tempo=0" in run.output, run.log()[-4000:]
    rolled = (f"loki: ROLLBACK_SUCCESSFUL: rolled back from {new} to {previous} by ECS deployment alarm "
              f"{account.seeded.name}-smoke-loki")
    assert rolled in run.output and rolled in run.summary, run.log()[-4000:]
    assert "mimir: no deployment since the deploy started" in run.summary, run.summary[-3000:]
    files = reports(run)
    assert set(files) == set(REPORTS) | set(AFTER), sorted(files)
    first, after = json.loads(files["smoke.json"]), json.loads(files["smoke-after.json"])
    assert first["verdict"] == "fail" and "loki" in first["headline"], first["headline"]
    assert after["verdict"] == "pass", [(c["name"], c["cause"]) for c in after["checks"] if c["outcome"] != "passed"]
    assert after["headline"] in run.summary
    assert_no_secret_shown(run, stack)


@pytest.mark.parametrize(("workflow", "job_id"), DEPLOY_GATES)
def test_a_green_deploy_waits_for_its_bake_and_goes_through(workflow, job_id, stack, account, runner_python, tmp_path):
    """The new Loki revision is healthy: the gate publishes 0 while it is IN_PROGRESS, the
    deployment completes after its bake, and the verdict after it (the AWS half with the built
    tags: Loki's is the new image) is green: the job goes through."""
    since = f"{time.time():.3f}"
    with deploy(account, stack, "loki") as (new, previous):
        run = run_gate(workflow, job_id, stack, account, runner_python, tmp_path, built_tags(account, loki="9.9.9-next"),
                       deploy_started=since)
    assert run.returncode == 0, run.log()[-4000:]
    assert f"loki: SUCCESSFUL, now on {new}" in run.summary, run.summary[-3000:]
    assert "loki: IN_PROGRESS, 1/1 new tasks running" in run.output, run.log()[-3000:]
    assert json.loads(reports(run)["smoke-after.json"])["verdict"] == "pass"
