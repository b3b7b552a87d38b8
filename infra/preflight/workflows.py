"""The GitHub workflows: the one smoke gate after every ECS deploy, with its credentials, the
secrets it reads at run time, the tags the run built and its reports uploaded; the bootstrap
component's state in the bootstrap bucket."""

from __future__ import annotations

import json
import re
from typing import Any

from .tree import COMPONENTS_DIR, MODULES_DIR, Infra, blocks, named, parse_yaml, preflight, tf_locals

GATE_WORKFLOW = "smoke-gate.yaml"
GATE_SECRETS = {  # what the gate reads at run time -> the env var the suite reads it from
    "grafana/admin-password": "LGTM_GRAFANA_PASSWORD",
    "alb/edge-secret": "LGTM_EDGE_SECRET",
}


def _wf(infra: Infra, name: str) -> dict:
    return parse_yaml(infra.workflows().get(name, "")) or {}


def _needs(job: dict) -> list[str]:
    n = job.get("needs") or []
    return [n] if isinstance(n, str) else list(n)


def _ancestors(jobs: dict, name: str) -> set[str]:
    seen: set[str] = set()
    todo = _needs(jobs.get(name) or {})
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo += _needs(jobs.get(n) or {})
    return seen


def _gate_job(infra: Infra) -> tuple[dict, dict]:
    wf = _wf(infra, GATE_WORKFLOW)
    jobs = wf.get("jobs") or {}
    return wf, (jobs.get("smoke-gate") or next(iter(jobs.values()), {}))


def _pytest_step(job: dict) -> dict:
    return next((st for st in job.get("steps") or [] if "pytest -m smoke" in str(st.get("run", ""))), {})


def _applies_ecs(job: dict) -> bool:
    """A job that applies 60-ecs without running the gate itself: terraform-component.yaml on 60-ecs
    (or on a component chosen at run time that may be it), deploy-ecs.yaml with run_smoke false."""
    uses, args = str(job.get("uses", "")), job.get("with") or {}
    comp, action = str(args.get("component", "")), str(args.get("action", ""))
    return (
        uses.endswith("/terraform-component.yaml") and action not in ("plan", "destroy", "output")
        and (comp == "60-ecs" or ("${{" in comp and "'60-ecs'" not in str(job.get("if", ""))))
    ) or (uses.endswith("/deploy-ecs.yaml") and str(args.get("run_smoke", True)).lower() == "false")


@preflight
def check_smoke_gate_after_every_ecs_deploy(infra: Infra) -> list[str]:
    """Every workflow job that applies 60-ecs is followed (through `needs`) by a job running
    the one smoke gate, .github/workflows/smoke-gate.yaml.

    Issue 11: an image push applied 60-ecs and its gate had no credentials; a deploy path
    without the gate ends green whatever it deployed (2026-01-16 04:30: tasks that never rolled).
    """
    problems = []
    flows = infra.workflows()
    if GATE_WORKFLOW not in flows:
        return [f".github/workflows/{GATE_WORKFLOW} is missing: the one smoke gate every deploy path calls"]
    for wf_name in sorted(flows):
        if wf_name == GATE_WORKFLOW:
            continue
        jobs = _wf(infra, wf_name).get("jobs") or {}
        gates = [n for n, j in jobs.items() if str(j.get("uses", "")).endswith("/" + GATE_WORKFLOW)]
        for name, job in jobs.items():
            if _applies_ecs(job) and not any(name in _ancestors(jobs, g) for g in gates):
                problems.append(f"{wf_name}: job {name} applies 60-ecs but no job calling {GATE_WORKFLOW} needs it; "
                                "the smoke gate must follow the ECS stage on every deploy path")
    return problems


@preflight
def check_smoke_gate_runs_during_rollout(infra: Infra) -> list[str]:
    """Every job calling smoke-gate.yaml after an ECS apply passes `deploy_started`, an output of a
    job it needs (the epoch seconds before 60-ecs was applied), and the gate declares that input.

    Issue 20: 60-ecs applies without waiting, so without it the gate is a plain run in the middle
    of the rollout: it does not wait for the new tasks (its verdict may judge the old revision), runs
    the ECS checks (one deployment, tasks on the new definition) while the deployment is still
    IN_PROGRESS, publishes that verdict to the deploy alarms, and never reports whether a deployment
    was rolled back. The loop that rolls back backends green to the ALB but broken to their clients
    (seed incidents S2, S4, S6, S10, S12) needs the gate's rollout mode.
    """
    problems = []
    wf, _ = _gate_job(infra)
    on = wf.get("on") or wf.get(True) or {}
    if "deploy_started" not in ((on.get("workflow_call") or {}).get("inputs") or {}):
        problems.append(f"{GATE_WORKFLOW}: workflow_call has no deploy_started input (the gate cannot run during the rollout)")
    for wf_name in sorted(infra.workflows()):
        jobs = _wf(infra, wf_name).get("jobs") or {}
        for name, job in jobs.items():
            if not str(job.get("uses", "")).endswith("/" + GATE_WORKFLOW):
                continue
            before = _ancestors(jobs, name)
            if not any(_applies_ecs(jobs.get(a) or {}) for a in before):
                continue
            value = str((job.get("with") or {}).get("deploy_started", "")).strip()
            src = re.match(r"\$\{\{\s*needs\.([\w-]+)\.outputs\.[\w-]+\s*\}\}$", value)
            if not src or src.group(1) not in before:
                problems.append(f"{wf_name}: job {name} calls {GATE_WORKFLOW} after an ECS apply without deploy_started "
                                f"({value or 'not passed'}); pass the deploy's start (needs.<job>.outputs.started) so the "
                                "gate runs while the deployments are IN_PROGRESS")
    return problems


@preflight
def check_smoke_gate_credentials_and_secrets(infra: Infra) -> list[str]:
    """The gate job may mint an OIDC token (`id-token: write`), assumes the read-only smoke
    role, and reads the Grafana password and the edge secret from Secrets Manager at run
    time (the secret names Terraform creates), masked; no GitHub secret holds them.

    Issue 11: deploy-ecs.yaml's gate had no credentials step and no Grafana password;
    terraform.yaml read secrets.GRAFANA_ADMIN_PASSWORD, which nothing ever set, and assumed
    the deploy role.
    """
    problems = []
    wf, job = _gate_job(infra)
    if not job:
        return [f"{GATE_WORKFLOW} has no smoke-gate job"]
    perms = {**(wf.get("permissions") or {}), **(job.get("permissions") or {})}
    if perms.get("id-token") != "write":
        problems.append(f"{GATE_WORKFLOW}: the gate job has no `id-token: write` permission "
                        "(it cannot assume a role through OIDC)")
    steps = job.get("steps") or []
    creds = [i for i, st in enumerate(steps) if str(st.get("uses", "")).startswith("aws-actions/configure-aws-credentials")]
    roles = [str((steps[i].get("with") or {}).get("role-to-assume", "")) for i in creds]
    if not any("AWS_SMOKE_ROLE_ARN" in r for r in roles):
        problems.append(f"{GATE_WORKFLOW}: the gate assumes {roles or 'no role'}, not the read-only smoke role "
                        "(vars.AWS_SMOKE_ROLE_ARN, 02-iam output smoke_role_arn)")
    run_at = next((i for i, st in enumerate(steps) if "pytest -m smoke" in str(st.get("run", ""))), None)
    if run_at is None:
        return problems + [f"{GATE_WORKFLOW}: no step runs `pytest -m smoke`"]
    if creds and min(creds) > run_at:
        problems.append(f"{GATE_WORKFLOW}: the credentials step comes after the pytest step")
    run = str(steps[run_at].get("run", ""))
    iam = infra.dir_text(f"{MODULES_DIR}/iam")
    readable = _smoke_readable_secrets(infra)
    for name, env in GATE_SECRETS.items():
        if f'"${{var.name}}/{name}"' not in iam:
            problems.append(f"modules/iam creates no secret <project>-<env>/{name}, which the gate reads")
        elif readable.get(name) is False:
            problems.append(f"modules/iam: the smoke role's secretsmanager:GetSecretValue does not reach the secret "
                            f"<project>-<env>/{name} (its resources name no aws_secretsmanager_secret of this module "
                            "by that name): the gate's get-secret-value would be denied")
        if "secretsmanager get-secret-value" not in run or name not in run or env not in run:
            problems.append(f"{GATE_WORKFLOW}: the pytest step does not read {name} from Secrets Manager into {env} at run time")
    outputs = named(infra.merged(f"{COMPONENTS_DIR}/02-iam"), "output")
    if "module.iam.smoke_role_arn" not in str((outputs.get("smoke_role_arn") or {}).get("value", "")):
        problems.append("02-iam has no output smoke_role_arn = module.iam.smoke_role_arn, the repository variable "
                        "AWS_SMOKE_ROLE_ARN the gate assumes")
    if run.count("::add-mask::") < len(GATE_SECRETS):
        problems.append(f"{GATE_WORKFLOW}: the secrets read at run time are not masked (::add-mask::)")
    text = infra.workflows().get(GATE_WORKFLOW, "")
    for m in re.finditer(r"\$\{\{\s*secrets\.(\w+)", "\n".join(infra.workflows().values())):
        problems.append(f"a workflow reads secrets.{m.group(1)}: the gate takes its secrets from Secrets Manager, not GitHub")
    if "environment" not in job and "environment:" not in text:
        problems.append(f"{GATE_WORKFLOW}: the gate job is not in the production environment the smoke role trusts")
    return problems


def _smoke_readable_secrets(infra: Infra) -> dict[str, bool]:
    """{gate secret name: whether the smoke role's GetSecretValue resources name that secret's
    resource}, following `local.` references of the module. A resource reached only through a
    `var.` is not counted: 02-iam may pass nothing (it did: `var.edge_secret_arn` was null)."""
    merged = infra.merged(f"{MODULES_DIR}/iam")
    locals_ = tf_locals(merged)
    labels = {}
    for rtype, label, body in blocks(merged, "resource"):
        if rtype == "aws_secretsmanager_secret":
            for name in GATE_SECRETS:
                if str(body.get("name", "")) == f"${{var.name}}/{name}":
                    labels[name] = label
    doc = next((b for t, n, b in blocks(merged, "data") if t == "aws_iam_policy_document" and n == "smoke"), {})

    def expand(value: Any, depth: int = 0) -> str:
        text = json.dumps(value)
        for local in set(re.findall(r"local\.(\w+)", text)) if depth < 5 else ():
            if local in locals_:
                text += expand(locals_[local], depth + 1)
        return text

    reach = "".join(expand(st.get("resources", "*")) for st in doc.get("statement") or []
                    if "secretsmanager:GetSecretValue" in (st.get("actions") or []))
    return {name: f"aws_secretsmanager_secret.{label}.arn" in reach for name, label in labels.items()}


@preflight
def check_smoke_gate_expects_built_tags(infra: Infra) -> list[str]:
    """The gate passes --expect-image-tag with the tags the same run just built: its input
    image_tags, which every caller takes from the build's own tag list.

    2026-01-16 04:30 / issue 11: an image that never rolled (ECR tag reuse) kept the old
    tasks running and the gate, given no tag, could not see it.
    """
    problems = []
    wf, job = _gate_job(infra)
    run = str(_pytest_step(job).get("run", ""))
    m = re.search(r"--expect-image-tag[ =]\"?\$\{?(\w+)", run)
    env = {**(job.get("env") or {}), **(_pytest_step(job).get("env") or {})}
    if not m:
        problems.append(f"{GATE_WORKFLOW}: pytest runs without --expect-image-tag")
    elif "inputs.image_tags" not in str(env.get(m.group(1), "")):
        problems.append(f"{GATE_WORKFLOW}: --expect-image-tag ${m.group(1)} is {env.get(m.group(1))!r}, "
                        "not the caller's image_tags")
    on = wf.get("on") or wf.get(True) or {}
    if "image_tags" not in ((on.get("workflow_call") or {}).get("inputs") or {}):
        problems.append(f"{GATE_WORKFLOW}: workflow_call has no image_tags input")
    deploy = _wf(infra, "deploy-ecs.yaml")
    d_jobs = deploy.get("jobs") or {}
    build_tags = str(((d_jobs.get("prepare") or {}).get("outputs") or {}).get("image_tags", ""))
    d_on = deploy.get("on") or deploy.get(True) or {}
    d_out = str((((d_on.get("workflow_call") or {}).get("outputs") or {}).get("image_tags") or {}).get("value", ""))
    if "steps.plan.outputs.image_tags" not in build_tags:
        problems.append("deploy-ecs.yaml: the prepare job does not output image_tags from the build plan (the tags it builds)")
    if "jobs.prepare.outputs.image_tags" not in d_out:
        problems.append("deploy-ecs.yaml: workflow_call does not output image_tags (jobs.prepare.outputs.image_tags) "
                        "for its callers' gates")
    for wf_name in sorted(infra.workflows()):
        jobs = _wf(infra, wf_name).get("jobs") or {}
        for name, j in jobs.items():
            if not str(j.get("uses", "")).endswith("/" + GATE_WORKFLOW):
                continue
            value = str((j.get("with") or {}).get("image_tags", ""))
            src = re.match(r"\$\{\{\s*needs\.([\w-]+)\.outputs\.image_tags\s*\}\}$", value.strip())
            builder = jobs.get(src.group(1)) if src else None
            ok = builder is not None and (
                str(builder.get("uses", "")).endswith("/deploy-ecs.yaml")
                or "steps.plan.outputs.image_tags" in str((builder.get("outputs") or {}).get("image_tags", "")))
            if not ok:
                problems.append(f"{wf_name}: job {name} passes image_tags {value or 'nothing'}; it must be the image_tags "
                                "output of the job that built the images in this run")
    return problems


@preflight
def check_smoke_gate_uploads_reports(infra: Infra) -> list[str]:
    """The gate writes JUnit, JSON and Markdown and uploads all three with `if: always()`,
    so a red verdict still leaves its evidence.

    Issue 11 / 13: the on-call engineer reads the verdict from the artifacts of a failed run.
    """
    problems = []
    _, job = _gate_job(infra)
    run = str(_pytest_step(job).get("run", ""))
    files = {}
    for flag in ("--junitxml", "--report-json", "--summary-md"):
        m = re.search(rf"{flag}[ =](\S+)", run)
        if not m:
            problems.append(f"{GATE_WORKFLOW}: pytest runs without {flag}")
        else:
            files[flag] = m.group(1).strip("\"'")
    uploads = [st for st in job.get("steps") or [] if str(st.get("uses", "")).startswith("actions/upload-artifact")]
    if not uploads:
        return problems + [f"{GATE_WORKFLOW}: no actions/upload-artifact step"]
    for flag, f in files.items():
        up = [st for st in uploads if f in str((st.get("with") or {}).get("path", ""))]
        if not up:
            problems.append(f"{GATE_WORKFLOW}: {f} ({flag}) is not uploaded")
        elif not any("always()" in str(st.get("if", "")) for st in up):
            problems.append(f"{GATE_WORKFLOW}: the upload of {f} has no `if: always()`: a red run would lose it")
    return problems


@preflight
def check_bootstrap_state_in_bootstrap_bucket(infra: Infra) -> list[str]:
    """terraform-component.yaml initialises 00-bootstrap against the hand-made bootstrap
    bucket without DynamoDB locking, and every other component against the state bucket
    with the lock table.

    2026-01-15 10:00: the bootstrap component creates the state bucket and the lock table,
    so its own state cannot live there (init fails: bucket/table do not exist yet).
    """
    problems = []
    wf = _wf(infra, "terraform-component.yaml")
    steps = [st for job in (wf.get("jobs") or {}).values() for st in job.get("steps") or []]
    init = next((str(st.get("run", "")) for st in steps if "terraform init" in str(st.get("run", ""))), "")
    m = re.search(r'if \[ "\$\{\{ inputs\.component \}\}" = "00-bootstrap" \]; then(.*?)\belse\b(.*?)\bfi\b', init, re.DOTALL)
    if not m:
        return ["terraform-component.yaml: terraform init has no separate branch for 00-bootstrap "
                "(its state is in the bootstrap bucket)"]
    boot, rest = m.group(1), m.group(2)
    if "outputs.bootstrap_state_bucket" not in boot or "outputs.state_bucket" in boot:
        problems.append("terraform-component.yaml: 00-bootstrap is initialised against the state bucket it creates; "
                        "use bootstrap_state_bucket")
    if "dynamodb_table" in boot:
        problems.append("terraform-component.yaml: 00-bootstrap init uses the lock table it creates")
    if "outputs.state_bucket" not in rest or "dynamodb_table" not in rest:
        problems.append("terraform-component.yaml: components after 00-bootstrap must init against state_bucket "
                        "with the lock table")
    return problems


# ---------------------------------------------------------------- what the workflows run and install
# `uses: owner/repo[/path]@<40 hex>` (an action or a reusable workflow of another repository);
# `./…` is this repository's own, reviewed with it; `docker://image@sha256:…` is pinned by digest.
PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v?\d+(\.\d+)*")


def _uses_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, what `uses:` names, the line's comment) for every `uses:` of a workflow file."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*(?:-\s+)?uses:\s*(['\"]?)([^'\"#\s]+)\1\s*(#.*)?$", line)
        if m:
            out.append((i, m.group(2), m.group(3) or ""))
    return out


@preflight
def check_workflow_actions_pinned_to_sha(infra: Infra) -> list[str]:
    """Every third-party action and reusable workflow in .github/workflows is pinned to a full
    commit SHA with its version in a comment (`@<40 hex> # v4.3.1`), as OpenSSF Scorecard's
    pinned-dependencies check asks; a tag or branch can be moved to code nobody reviewed.

    Issue 18: the gate runs beside AWS credentials, the Grafana admin password and the edge
    secret; `actions/checkout@v4` would run whatever v4 points at on the day.
    """
    problems = []
    for name, text in infra.workflows().items():
        for line, uses, comment in _uses_lines(text):
            if uses.startswith("./") or re.fullmatch(r"docker://\S+@sha256:[0-9a-f]{64}", uses):
                continue
            if not PINNED_USES.match(uses):
                problems.append(f"{name}:{line}: uses {uses}: pin it to a full commit SHA (`@<40 hex> # <version>`)")
            elif not VERSION_COMMENT.search(comment):
                problems.append(f"{name}:{line}: uses {uses} without its version in a comment (`# v4.3.1`): "
                                "the update bot and the reviewer read it")
    return problems


# An install command in a `run:` script: pip/pip3/python -m pip, uv pip, uv sync, pipx, npm/yarn, gem, go.
INSTALL = re.compile(r"(?:\bpython3?\s+-m\s+pip|\bpip3?|\buv\s+pip|\bpipx)\s+(?:install|sync)\b"
                     r"|\buv\s+(?:sync|add|tool\s+install)\b|\bnpm\s+(?:install|i)\b|\byarn\s+add\b")
LOCKED_INSTALL_SCRIPT = "tools/install.sh"


def _locked(command: str) -> bool:
    """An install that fetches only what the lock names, hash-checked: a requirements/*.txt with
    --require-hashes, or only this repository's own code (--no-deps --no-build-isolation), or
    `uv sync --locked/--frozen`."""
    if "--require-hashes" in command and re.search(r"(?:^|[\s=])\S*requirements/[\w.-]+\.txt\b", command):
        return True
    if "--no-deps" in command and "--no-build-isolation" in command:
        return True
    return bool(re.search(r"\buv\s+sync\b", command)) and bool(re.search(r"--(?:locked|frozen)\b", command))


def _reads_secrets(wf: dict, job: dict) -> str | None:
    """Why the job can read secrets (None when it cannot): a GitHub secret, an environment's
    secrets, an OIDC token (cloud credentials), or credentials configured by a step."""
    text = json.dumps(job)
    if "secrets." in text or job.get("secrets") == "inherit":
        return "it reads GitHub secrets"
    if job.get("environment"):
        return f"it runs in environment {job['environment']!r} (its secrets)"
    perms = job.get("permissions", wf.get("permissions")) or {}
    if isinstance(perms, dict) and perms.get("id-token") == "write" or perms == "write-all":
        return "it can mint an OIDC token (cloud credentials)"
    if "configure-aws-credentials" in text or "secretsmanager" in text:
        return "it holds AWS credentials"
    return None


def _unlocked_installs(infra: Infra, script: str, follow: bool = True) -> list[str]:
    """The install commands of a shell script that are not locked; a call of tools/install.sh is
    followed into that script (once), whose every install is held to the same rule."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if follow and LOCKED_INSTALL_SCRIPT in line:
            installer = infra.path(LOCKED_INSTALL_SCRIPT)
            text = installer.read_text(encoding="utf-8") if installer.is_file() else f"pip install  # no {installer}"
            found += [f"{LOCKED_INSTALL_SCRIPT}: {cmd}" for cmd in _unlocked_installs(infra, text, follow=False)]
        elif INSTALL.search(line) and not _locked(line):
            found.append(line)
    return found


@preflight
def check_no_unlocked_install_with_secrets(infra: Infra) -> list[str]:
    """A workflow job that can read secrets installs only what the lock names, hash-checked
    (`bash tools/install.sh suite|dev`, or pip/uv with --require-hashes -r requirements/…).

    Issue 18: the gate ran `pip install .` with floors only, next to AWS credentials, the Grafana
    admin password and the edge secret: any new release of ~35 packages ran there unreviewed
    (and moto 5.2.6 turned the tests red on a fresh machine while CI, with 5.2.5, stayed green).
    """
    problems = []
    for name in infra.workflows():
        wf = _wf(infra, name)
        for job_id, job in (wf.get("jobs") or {}).items():
            why = _reads_secrets(wf, job or {})
            if not why:
                continue
            for step in (job or {}).get("steps") or []:
                for command in _unlocked_installs(infra, str(step.get("run", ""))):
                    problems.append(f"{name}: job {job_id} installs `{command}` unlocked, and {why}: install from the "
                                    "lock (bash tools/install.sh suite|dev, or --require-hashes -r requirements/…)")
    return problems
