"""The smoke canary (component 70-smoke-canary over modules/smoke-canary, issue 21): the schedule's
task runs the smoke image's `canary --once`, its task role writes nothing but metrics in our
namespace, and a run (a late retry included) ends before the next tick.

Values are followed the way Terraform would: a module variable is what 70-smoke-canary passes
(its own variable's common.tfvars value, else its default), else the module's default; the task
role's policy documents through `source_policy_documents`, module variables, remote-state and
module outputs to the document that holds the statements.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Callable
from typing import Any

from .tree import (
    COMPONENTS_DIR,
    METRICS_ACTION,
    MODULES_DIR,
    Infra,
    blocks,
    first,
    named,
    parse_hcl,
    preflight,
    tf_locals,
    writes_beyond_metrics,
)

COMPONENT = f"{COMPONENTS_DIR}/70-smoke-canary"
MODULE = f"{MODULES_DIR}/smoke-canary"
SMOKE_DOCKERFILE = "infra/images/smoke/Dockerfile"
# Between a run's deadline and the next tick: Scheduler's smallest retry window
# (maximum_event_age_in_seconds >= 60) plus the task's own stop, as the module's precondition says.
MARGIN_S = 60


class Unresolved(ValueError):
    """A reference this reader cannot follow to a value (the message says which and where)."""


def _unresolved_is_a_problem(check: Callable[[Infra], list[str]]) -> Callable[[Infra], list[str]]:
    """A value the check cannot follow is its one problem (naming the reference), not a crash."""

    @functools.wraps(check)
    def run(infra: Infra) -> list[str]:
        try:
            return check(infra)
        except Unresolved as exc:
            return [str(exc)]

    return run


def _ref(expr: Any) -> str:
    """The expression inside a whole-string interpolation (`${var.x}` -> `var.x`), else the text itself."""
    m = re.fullmatch(r"\$\{(.*)\}", str(expr), re.S)
    return m.group(1).strip() if m else str(expr)


def _canary_call(infra: Infra) -> dict:
    """70-smoke-canary's call of modules/smoke-canary."""
    for call in named(infra.merged(COMPONENT), "module").values():
        if str(call.get("source", "")).rstrip("/").endswith("modules/smoke-canary"):
            return call
    raise Unresolved(f"{COMPONENT} does not call modules/smoke-canary")


def _component_value(infra: Infra, comp_rel: str, name: str) -> tuple[Any, str]:
    """A component variable's value: common.tfvars (every component is applied with it), else its default."""
    if name in infra.tfvars:
        return infra.tfvars[name], "common.tfvars"
    var = named(infra.merged(comp_rel), "variable").get(name)
    if var is None or "default" not in var:
        raise Unresolved(f"{comp_rel} variable {name!r} has no default and common.tfvars does not set it")
    return var["default"], f"{comp_rel.rsplit('/', 1)[-1]}'s default"


def module_var(infra: Infra, name: str) -> tuple[Any, str]:
    """(value, where it comes from) of a modules/smoke-canary variable as 70-smoke-canary sets it."""
    call = _canary_call(infra)
    if name in call:
        ref = _ref(call[name])
        m = re.fullmatch(r"var\.(\w+)", ref)
        if m:
            return _component_value(infra, COMPONENT, m.group(1))
        if isinstance(call[name], (int, float, bool)) or not str(call[name]).startswith("${"):
            return call[name], f"{COMPONENT.rsplit('/', 1)[-1]}'s module call"
        raise Unresolved(f"{COMPONENT} passes {name} = {call[name]!r}, which is no value preflight can read")
    var = named(infra.merged(MODULE), "variable").get(name)
    if var is None or "default" not in var:
        raise Unresolved(f"{MODULE} variable {name!r} is neither passed by {COMPONENT} nor has a default")
    return var["default"], "modules/smoke-canary's default"


_OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
              ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}


def _arithmetic(node: ast.AST, expr: Any) -> float:
    """Numbers, + - * /, unary minus, max() and min(): the Terraform arithmetic the module's numbers use."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_arithmetic(node.operand, expr)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_arithmetic(node.left, expr), _arithmetic(node.right, expr))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"max", "min"} and node.args:
        values = [_arithmetic(a, expr) for a in node.args]
        return max(values) if node.func.id == "max" else min(values)
    raise Unresolved(f"{expr!r} is not arithmetic preflight can evaluate (numbers, + - * /, max, min, var., local.)")


def module_number(infra: Infra, expr: Any) -> float:
    """The value of a numeric modules/smoke-canary expression: numbers, + - * /, max/min, var.X, local.X."""
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        return expr
    loc = tf_locals(infra.merged(MODULE))

    def value(m: re.Match) -> str:
        kind, name = m.group(1), m.group(2)
        if kind == "var":
            v = module_var(infra, name)[0]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise Unresolved(f"var.{name} = {v!r} is not a number")
            return repr(v)
        if name not in loc:
            raise Unresolved(f"{MODULE} has no local {name!r}")
        return repr(module_number(infra, loc[name]))

    text = re.sub(r"\b(var|local)\.(\w+)", value, _ref(expr))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise Unresolved(f"{expr!r} is not arithmetic preflight can evaluate") from None
    return _arithmetic(tree.body, expr)


def _resource(merged: dict, rtype: str) -> tuple[str, dict] | None:
    found = [(n, b) for t, n, b in blocks(merged, "resource") if t == rtype]
    return found[0] if found else None


def _task_definition(infra: Infra) -> tuple[str, dict, dict]:
    """(name, task definition, schedule) of the task the module's schedule starts."""
    merged = infra.merged(MODULE)
    schedule = _resource(merged, "aws_scheduler_schedule")
    if schedule is None:
        raise Unresolved(f"{MODULE} has no aws_scheduler_schedule")
    ecs = first(first(schedule[1].get("target")) or {}).get("ecs_parameters") if schedule[1].get("target") else None
    arn = str((first(ecs) or {}).get("task_definition_arn", ""))
    m = re.fullmatch(r"aws_ecs_task_definition\.(\w+)\.arn", _ref(arn))
    if not m:
        raise Unresolved(f"{MODULE} schedule {schedule[0]} starts task definition {arn!r}, not one of this module")
    defs = {n: b for t, n, b in blocks(merged, "resource") if t == "aws_ecs_task_definition"}
    if m.group(1) not in defs:
        raise Unresolved(f"{MODULE} schedule starts aws_ecs_task_definition.{m.group(1)}, which does not exist")
    return m.group(1), defs[m.group(1)], schedule[1]


def containers(task_definition: dict) -> list[dict]:
    """The container definitions of a task definition written as `jsonencode([...])` (or JSON)."""
    raw = str(task_definition.get("container_definitions", ""))
    m = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", raw, re.S)
    parsed: Any = parse_hcl("x = " + m.group(1)).get("x") if m else json.loads(raw)
    return parsed if isinstance(parsed, list) else [parsed]


def _canary_container(infra: Infra) -> tuple[str, dict]:
    name, task_def, _ = _task_definition(infra)
    found = [c for c in containers(task_def) if _ref(c.get("image", "")) == "var.image"]
    if not found:
        raise Unresolved(f"{MODULE} task definition {name} has no container with image = var.image")
    return name, found[0]


def _remote_state_component(infra: Infra, comp_rel: str, state: str) -> str:
    body = {n: b for t, n, b in blocks(infra.merged(comp_rel), "data") if t == "terraform_remote_state"}.get(state)
    m = re.search(r"/([^/]+)/terraform\.tfstate$", str((first((body or {}).get("config")) or {}).get("key", "")))
    if not m:
        raise Unresolved(f"{comp_rel} reads remote state {state!r}, which names no component's state key")
    return m.group(1)


@preflight
@_unresolved_is_a_problem
def check_canary_runs_smoke_image(infra: Infra) -> list[str]:
    """The canary's schedule starts a task definition whose container is the smoke image
    (70-smoke-canary: 11-ecr's repository `smoke`, tag from /<project>/<env>/image-tag/smoke, which
    deploy-ecs.yaml publishes after each smoke build) and runs `canary --once` (the image's
    ENTRYPOINT is `lgtm-smoke`).

    Issue 21: the canary is the suite every 5 minutes; another service's image (or a tag of one)
    would run that service's process on the schedule, the suite never runs, and only the
    not-reporting alert would say so, 15 minutes later.
    """
    problems = []
    call = _canary_call(infra)
    image = str(call.get("image", ""))
    repo = re.search(r'data\.terraform_remote_state\.(\w+)\.outputs\.repository_urls\[\s*"([^"]+)"\s*\]', image)
    if not repo:
        problems.append(f"{COMPONENT}: image = {image!r} is not an ECR repository of 11-ecr "
                        '(data.terraform_remote_state.ecr.outputs.repository_urls["smoke"])')
    else:
        if repo.group(2) != "smoke":
            problems.append(f'{COMPONENT}: the canary\'s image comes from ECR repository "{repo.group(2)}", not "smoke": '
                            "the schedule would run that service's image instead of the suite")
        source = _remote_state_component(infra, COMPONENT, repo.group(1))
        if source != "11-ecr":
            problems.append(f"{COMPONENT}: image repository from remote state {repo.group(1)} ({source}), not 11-ecr")
    ecr_call = named(infra.merged(f"{COMPONENTS_DIR}/11-ecr"), "module").get("ecr") or {}
    if '"smoke"' not in str(ecr_call.get("services", "")):
        problems.append('11-ecr makes no "smoke" repository (module ecr services); the canary\'s image has nowhere to be pushed')
    if "smoke" not in (infra.tfvars.get("image_versions") or {}):
        problems.append("common.tfvars image_versions has no smoke: deploy-ecs.yaml never builds the canary's image")
    tag = re.search(r":\$\{(?:nonsensitive\()?data\.aws_ssm_parameter\.(\w+)\.value\)?\}$", image)
    params = {n: b for t, n, b in blocks(infra.merged(COMPONENT), "data") if t == "aws_ssm_parameter"}
    tag_name = str((params.get(tag.group(1)) or {}).get("name", "")) if tag else ""
    if not tag_name.endswith("/image-tag/smoke"):
        problems.append(f"{COMPONENT}: the image tag is {tag_name or image!r}, not the parameter deploy-ecs.yaml "
                        "publishes for the smoke image (/${var.project_name}/${var.environment}/image-tag/smoke)")
    name, container = _canary_container(infra)
    command = [str(a) for a in container.get("command") or []]
    if command[:2] != ["canary", "--once"]:
        problems.append(f"{MODULE} task definition {name}: command {command} does not start with "
                        '["canary", "--once"] (one run per tick, under its deadline)')
    dockerfile = infra.text(SMOKE_DOCKERFILE)
    if not re.search(r'(?m)^ENTRYPOINT\s+\[\s*"lgtm-smoke"\s*\]\s*$', dockerfile):
        problems.append(f'{SMOKE_DOCKERFILE}: ENTRYPOINT must be ["lgtm-smoke"] (the task\'s command is its arguments)')
    return problems


def _policy_documents(infra: Infra, rel: str, expr: Any, caller: tuple[str, dict] | None, via: str) -> list[tuple[str, dict]]:
    """[(where, aws_iam_policy_document body)] that `expr` (in directory `rel`) evaluates to, following
    var.X to the caller's argument, data.terraform_remote_state.S.outputs.O to the component's output,
    module.M.O to the module's output, and each document's source/override documents."""
    ref = _ref(expr)
    m = re.fullmatch(r"data\.aws_iam_policy_document\.(\w+)\.json", ref)
    if m:
        docs = {n: b for t, n, b in blocks(infra.merged(rel), "data") if t == "aws_iam_policy_document"}
        if m.group(1) not in docs:
            raise Unresolved(f"{rel} has no data.aws_iam_policy_document.{m.group(1)} ({via})")
        where = f"{rel.split('terraform/', 1)[-1]} data.aws_iam_policy_document.{m.group(1)}"
        out = [(where, docs[m.group(1)])]
        for key in ("source_policy_documents", "override_policy_documents"):
            for inner in docs[m.group(1)].get(key) or []:
                out += _policy_documents(infra, rel, inner, caller, where)
        return out
    m = re.fullmatch(r"var\.(\w+)", ref)
    if m and caller is not None:
        caller_rel, call = caller
        if m.group(1) not in call:
            raise Unresolved(f"{caller_rel} does not pass {m.group(1)} to {rel} ({via})")
        return _policy_documents(infra, caller_rel, call[m.group(1)], None, f"{caller_rel} {m.group(1)}")
    m = re.fullmatch(r"data\.terraform_remote_state\.(\w+)\.outputs\.(\w+)", ref)
    if m:
        comp = f"{COMPONENTS_DIR}/{_remote_state_component(infra, rel, m.group(1))}"
        exported = named(infra.merged(comp), "output").get(m.group(2))
        if exported is None:
            raise Unresolved(f"{comp} exports no output {m.group(2)!r} ({via})")
        return _policy_documents(infra, comp, exported.get("value"), None, f"{comp} output {m.group(2)}")
    m = re.fullmatch(r"module\.(\w+)\.(\w+)", ref)
    if m:
        module_call = named(infra.merged(rel), "module").get(m.group(1))
        if module_call is None:
            raise Unresolved(f"{rel} has no module {m.group(1)!r} ({via})")
        mod = str((infra.path(rel) / module_call.get("source", "")).resolve().relative_to(infra.root.resolve()))
        output = named(infra.merged(mod), "output").get(m.group(2))
        if output is None:
            raise Unresolved(f"{mod} exports no output {m.group(2)!r} ({via})")
        return _policy_documents(infra, mod, output.get("value"), (rel, module_call), f"{mod} output {m.group(2)}")
    raise Unresolved(f"{rel}: policy {expr!r} ({via}) is not a policy document preflight can follow "
                     "(data.aws_iam_policy_document, var., remote-state or module outputs)")


@preflight
@_unresolved_is_a_problem
def check_canary_task_role_writes_only_metrics(infra: Infra) -> list[str]:
    """The canary's task role only reads, except `cloudwatch:PutMetricData`, and that only with a
    StringEquals `cloudwatch:namespace` condition on our namespace (smoke_metric_namespace, never
    an `AWS/` one); its policies are inline documents preflight can read, followed to their source
    (the smoke role's read-only statements in modules/iam/smoke.tf).

    Issue 21: the canary runs unattended every 5 minutes with the role's credentials in its task;
    the smoke gate proved the suite needs no write (tests/aws, IAM-enforcing moto), so any write
    (ecs:RunTask, s3:PutObject, PutMetricData into AWS/ECS or into the namespace the deploy alarms
    watch) is reach the canary never uses and a leaked credential would.
    """
    problems = []
    merged = infra.merged(MODULE)
    name, task_def, _ = _task_definition(infra)
    m = re.fullmatch(r"aws_iam_role\.(\w+)\.arn", _ref(task_def.get("task_role_arn", "")))
    if not m:
        return [f"{MODULE} task definition {name}: task_role_arn {task_def.get('task_role_arn')!r} is not a role of this module"]
    role = m.group(1)
    on_role = re.compile(rf"aws_iam_role\.{role}\.(id|name|arn)\b")
    role_body = {n: b for t, n, b in blocks(merged, "resource") if t == "aws_iam_role"}.get(role) or {}
    for key in ("inline_policy", "managed_policy_arns"):
        if key in role_body:
            problems.append(f"{MODULE} task role {role} sets {key}: write its statements in an aws_iam_policy_document")
    documents: list[tuple[str, dict]] = []
    for rtype, rname, body in blocks(merged, "resource"):
        if not on_role.search(str(body.get("role", ""))):
            continue
        if rtype != "aws_iam_role_policy":
            problems.append(f"{MODULE}: {rtype}.{rname} gives the canary's task role (aws_iam_role.{role}) a policy preflight "
                            "cannot read; give it only aws_iam_role_policy from an aws_iam_policy_document")
            continue
        documents += _policy_documents(infra, MODULE, body.get("policy"), (COMPONENT, _canary_call(infra)),
                                       f"aws_iam_role_policy.{rname}")
    if not documents:
        problems.append(f"{MODULE} task role {role} has no policy (the canary pushes metrics: PutMetricData)")
    namespace, where = module_var(infra, "smoke_metric_namespace")
    for doc_where, doc in documents:
        for i, st in enumerate(doc.get("statement") or []):
            if str(st.get("effect", "Allow")) == "Deny":
                continue
            sid = st.get("sid") or f"#{i + 1}"
            if st.get("not_actions"):
                problems.append(f"{doc_where} statement {sid} uses not_actions: the task role's actions must be listed")
            writes = sorted(a for a in st.get("actions") or [] if writes_beyond_metrics(str(a)))
            if writes:
                problems.append(f"{doc_where} statement {sid} lets the canary's task role write: {', '.join(writes)} "
                                f"(it may only read, and put metrics in {namespace})")
            if METRICS_ACTION not in (st.get("actions") or []):
                continue
            conds = [c for c in st.get("condition") or [] if c.get("variable") == "cloudwatch:namespace"]
            values = [str(v) for c in conds for v in c.get("values") or []]
            resolved = [namespace if _ref(v) == "var.smoke_metric_namespace" else v for v in values]
            if not conds or any(c.get("test") != "StringEquals" for c in conds):
                problems.append(f"{doc_where} statement {sid} allows {METRICS_ACTION} without a StringEquals "
                                f"cloudwatch:namespace condition: the canary could write into any namespace, AWS/ ones too")
            elif resolved != [namespace]:
                problems.append(f"{doc_where} statement {sid} scopes {METRICS_ACTION} to {resolved}, not our namespace "
                                f"[{namespace}] (var.smoke_metric_namespace)")
    if not str(namespace) or str(namespace).startswith("AWS/"):
        problems.append(f"smoke_metric_namespace = {namespace!r} ({where}): the canary's namespace must be our own, "
                        "not an AWS/ one")
    return problems


@preflight
@_unresolved_is_a_problem
def check_canary_run_ends_before_next_tick(infra: Infra) -> list[str]:
    """A canary run ends before the next one starts: the deadline (default) + a minute <= the
    interval, with the module's precondition holding every other value to it; the schedule ticks
    every canary_interval_minutes and the container's --deadline is canary_deadline_seconds; a
    start Scheduler retries may come at most interval - deadline late.

    Issue 21: Scheduler and ECS have no overlap guard and no task timeout; two runs at once
    double the load on the stack and interleave their pushed results, which the alert rules read
    as one run (../shared/reference/aws-rollback-canary.md §4).
    """
    problems = []
    interval, interval_from = module_var(infra, "canary_interval_minutes")
    deadline, deadline_from = module_var(infra, "canary_deadline_seconds")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (interval, deadline))
    if not numbers:
        return [f"canary_interval_minutes = {interval!r} ({interval_from}), canary_deadline_seconds = {deadline!r} "
                f"({deadline_from}): both must be numbers"]
    slack = interval * 60 - deadline
    if deadline + MARGIN_S > interval * 60:
        problems.append(f"canary_deadline_seconds = {deadline:g} ({deadline_from}) + {MARGIN_S} s margin is more than "
                        f"canary_interval_minutes = {interval:g} ({interval_from}) x 60 s: a run would still be going "
                        "at the next tick; lower the deadline or lengthen the interval")
    merged = infra.merged(MODULE)
    conditions = [str(p.get("condition", "")) for _, _, body in blocks(merged, "resource") + blocks(merged, "data")
                  for lc in body.get("lifecycle") or [] for p in lc.get("precondition") or []]
    conditions += [str(v.get("condition", "")) for body in named(merged, "variable").values()
                   for v in body.get("validation") or []]
    guard = re.compile(r"var\.canary_deadline_seconds\s*\+\s*(\d+)\s*<=\s*var\.canary_interval_minutes\s*\*\s*60\b")
    if not any(int(g.group(1)) >= MARGIN_S for c in conditions for g in guard.finditer(c)):
        problems.append(f"{MODULE} has no precondition var.canary_deadline_seconds + {MARGIN_S} <= "
                        "var.canary_interval_minutes * 60: any deadline/interval pair would apply")
    _, task_def, schedule = _task_definition(infra)
    expression = str(schedule.get("schedule_expression", ""))
    if expression != "rate(${var.canary_interval_minutes} minutes)":
        problems.append(f"{MODULE} schedule_expression = {expression!r}, not rate(${{var.canary_interval_minutes}} "
                        "minutes): the interval checked here is not the schedule's")
    name, container = _canary_container(infra)
    command = [str(a) for a in container.get("command") or []]
    given = command[command.index("--deadline") + 1] if "--deadline" in command[:-1] else None
    if given is None or "var.canary_deadline_seconds" not in given:
        problems.append(f"{MODULE} task definition {name}: command {command} does not pass "
                        "--deadline var.canary_deadline_seconds: the run's deadline is not the one checked here")
    retry = first(first(schedule.get("target") or [{}]).get("retry_policy"))
    if not retry:
        problems.append(f"{MODULE} schedule has no retry_policy: Scheduler's default retries a start for 24 h, "
                        "into the next runs")
    else:
        age = module_number(infra, retry.get("maximum_event_age_in_seconds"))
        if age > slack:
            problems.append(f"{MODULE} schedule retry_policy maximum_event_age_in_seconds = {age:g} is more than "
                            f"interval - deadline = {slack:g} s: a retried start that late would overlap the next tick")
    return problems
