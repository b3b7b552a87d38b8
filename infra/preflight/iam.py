"""IAM: least privilege for the OIDC roles, the task roles and the deploy role; the smoke role's one
write, its verdict in our metrics namespace."""

from __future__ import annotations

import re

from .tree import COMPONENTS_DIR, METRICS_ACTION, MODULES_DIR, Infra, blocks, named, preflight, writes_beyond_metrics


@preflight
def check_iam_least_privilege(infra: Infra) -> list[str]:
    """OIDC trusts only the production environment's jobs (StringEquals, no wildcard, no
    branch/PR subject); no role can change its own policy (the Terraform role is denied
    every write on itself); only the Terraform role has IAM actions; each backend's task
    role reaches only its own bucket prefix, Grafana and Alloy have none;
    create_github_oidc_provider is wired through 02-iam; the one SNS grant is Mimir's task role's
    sns:Publish on the module's own alerts topic (modules/iam/paging.tf), nothing else on SNS for
    any role.

    Issue 11: trust `repo:…:environment:*` plus iam:* on role/lgtm-prod-* (itself included)
    let any workflow naming any environment escalate; one task role let Grafana and Alloy
    overwrite any backend's blocks; 02-iam failed where the OIDC provider existed. Issue 21:
    Mimir's Alertmanager pages through SNS with its task role; that role must not reach any
    other topic, subscribe, or manage topics.
    """
    problems = []
    rel = f"{MODULES_DIR}/iam"
    merged = infra.merged(rel)
    docs = {n: b for t, n, b in blocks(merged, "data") if t == "aws_iam_policy_document"}
    assume = docs.get("github_assume") or {}
    subs = [c for st in assume.get("statement") or [] for c in st.get("condition") or []
            if str(c.get("variable", "")).endswith(":sub")]
    want = "repo:${var.github_repository}:environment:${var.github_environment}"
    if not subs or any(c.get("test") != "StringEquals" or c.get("values") != [want] for c in subs):
        got = [(c.get("test"), c.get("values")) for c in subs]
        problems.append(f"modules/iam github_assume trusts sub {got or 'anything'}; it must be StringEquals [{want}] "
                        "(the production environment, which runs on the default branch only)")
    env = infra.tfvars.get("github_environment")
    if env != "production":
        problems.append(f"common.tfvars github_environment = {env!r}; the roles must trust the production environment")
    # Which policy document each role gets
    role_docs: dict[str, list[str]] = {}
    for t, _, b in blocks(merged, "resource"):
        if t == "aws_iam_role_policy":
            role_m = re.search(r"aws_iam_role\.(\w+)", str(b.get("role", "")))
            doc = re.search(r"aws_iam_policy_document\.(\w+)", str(b.get("policy", "")))
            if role_m and doc:
                role_docs.setdefault(role_m.group(1), []).append(doc.group(1))
    roles = {n: b for t, n, b in blocks(merged, "resource") if t == "aws_iam_role"}
    for role, names in sorted(role_docs.items()):
        statements = [st for d in names for st in (docs.get(d) or {}).get("statement") or []]
        allow_iam = [st for st in statements if str(st.get("effect", "Allow")) != "Deny"
                     and any(str(a).startswith("iam:") and a != "iam:CreateServiceLinkedRole" for a in st.get("actions") or [])]
        if not allow_iam:
            continue
        if role != "github_terraform":
            problems.append(f"modules/iam role {role} may call IAM ({allow_iam[0].get('sid')}); "
                            "only the Terraform role manages roles")
            continue
        own = str((roles.get(role) or {}).get("name", "")).replace("${var.name}", "")
        denies = [st for st in statements if st.get("effect") == "Deny"
                  and any(own and str(r).endswith(f"role/${{var.name}}{own}") for r in st.get("resources") or [])]
        denied = {a for st in denies for a in st.get("actions") or []}
        missing = {"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePolicy"} - denied
        if missing:
            problems.append(f"modules/iam role {role} may change its own policy ({', '.join(sorted(missing))} on itself "
                            "are not denied)")
    task = roles.get("task") or {}
    task_doc = docs.get("task") or {}
    if "for_each" not in task:
        problems.append("modules/iam has no per-service task roles (aws_iam_role.task for_each over the backends)")
    for st in task_doc.get("statement") or []:
        for r in st.get("resources") or []:
            if str(r).endswith("}/*") and "each.value" not in str(r):
                problems.append(f"modules/iam task role statement {st.get('sid')} reaches {r}: "
                                "a task role reaches only its own prefix")
    backends = (named(merged, "variable").get("backends") or {}).get("default") or []
    for svc in ("grafana", "alloy"):
        if svc in backends:
            problems.append(f"modules/iam gives {svc} a task role; Grafana and Alloy make no AWS calls")
    if "lookup(var.task_role_arns, each.key, null)" not in infra.dir_text(f"{MODULES_DIR}/ecs"):
        problems.append("modules/ecs does not give each service its own task role (lookup(var.task_role_arns, each.key, null))")
    # The deploy role builds, publishes tags and waits; the gate's reads are the smoke role's alone
    # (an older deploy role carried them too, so both roles could read everything the gate reads).
    deploy_actions = {a for d in role_docs.get("github_deploy", []) for st in (docs.get(d) or {}).get("statement") or []
                      for a in st.get("actions") or []}
    smoke_only = sorted({a for st in (docs.get("smoke") or {}).get("statement") or [] for a in st.get("actions") or []}
                        & deploy_actions - {"ecs:DescribeServices"})  # the deploy's own `aws ecs wait services-stable`
    if smoke_only:
        problems.append(f"modules/iam deploy role carries the smoke gate's reads ({', '.join(smoke_only)}); they belong "
                        "to the smoke role (smoke.tf) only")
    problems += _sns_publish_only_to_alerts_topic(merged, docs)
    call = named(infra.merged(f"{COMPONENTS_DIR}/02-iam"), "module").get("iam", {})
    if call.get("create_github_oidc_provider") != "${var.create_github_oidc_provider}":
        problems.append("02-iam does not pass create_github_oidc_provider to modules/iam (it fails where the provider exists)")
    return problems


def _sns_publish_only_to_alerts_topic(merged: dict, docs: dict[str, dict]) -> list[str]:
    """Every SNS action in modules/iam is sns:Publish on an aws_sns_topic of the module, in a
    document attached to Mimir's task role alone (issue 21: Alertmanager pages with that role)."""
    problems = []
    topics = {n for t, n, _ in blocks(merged, "resource") if t == "aws_sns_topic"}
    attached: dict[str, list[str]] = {}  # document -> the roles it is attached to
    for t, _, b in blocks(merged, "resource"):
        doc = re.search(r"aws_iam_policy_document\.(\w+)", str(b.get("policy", "")))
        if t == "aws_iam_role_policy" and doc:
            attached.setdefault(doc.group(1), []).append(str(b.get("role", "")))
    publishers = 0
    for name, doc in sorted(docs.items()):
        for st in doc.get("statement") or []:
            sns = [a for a in st.get("actions") or [] if str(a).lower().startswith("sns:")]
            if not sns or st.get("effect") == "Deny":
                continue
            where = f"modules/iam data.aws_iam_policy_document.{name} statement {st.get('sid')}"
            if sns != ["sns:Publish"] or len(st.get("actions") or []) != 1:
                problems.append(f"{where} allows {', '.join(map(str, st.get('actions') or []))}: the only SNS right is "
                                "sns:Publish (Mimir's Alertmanager pages; nothing subscribes or manages topics)")
            bad = [r for r in st.get("resources") or []
                   if not re.fullmatch(r"\$\{aws_sns_topic\.(\w+)\.arn\}", str(r))
                   or re.fullmatch(r"\$\{aws_sns_topic\.(\w+)\.arn\}", str(r)).group(1) not in topics]
            if bad or not st.get("resources"):
                problems.append(f"{where} publishes to {bad or 'no resource'}: only the alerts topic's own ARN "
                                "(aws_sns_topic.<name>.arn of this module), never a wildcard")
            roles = attached.get(name, [])
            if not roles or any(r != '${aws_iam_role.task["mimir"].id}' for r in roles):
                problems.append(f"{where} is attached to {roles or 'no role'}: only Mimir's task role "
                                '(aws_iam_role.task["mimir"]) pages')
            publishers += 1
    if topics and not publishers:
        problems.append("modules/iam makes the alerts topic but no role may publish to it: Mimir's Alertmanager pages nobody")
    return problems


NAMESPACE_VAR = "${var.smoke_metric_namespace}"


@preflight
def check_smoke_role_writes_only_its_verdict(infra: Infra) -> list[str]:
    """The smoke role (modules/iam/smoke.tf) only reads, but `cloudwatch:PutMetricData`, which its
    statement holds to `StringEquals cloudwatch:namespace = var.smoke_metric_namespace`; 02-iam (the
    role's condition) and 60-ecs (the deploy alarms' namespace) both pass `var.smoke_metric_namespace`,
    set once in common.tfvars, so the role writes exactly where the alarms read.

    Issue 20: the gate's verdict drives each service's rollback alarm. Without the condition (or with
    StringLike "*", or cloudwatch:*) a gate credential could write any namespace: feed another alarm,
    silence its own, or write into AWS/*; with the two namespaces apart the alarms watch a series
    nobody writes (missing data, notBreaching) and nothing ever rolls back (S2, S4, S6, S10, S12
    again).
    """
    problems = []
    merged = infra.merged(f"{MODULES_DIR}/iam")
    docs = {n: b for t, n, b in blocks(merged, "data") if t == "aws_iam_policy_document"}
    smoke_docs = sorted({m.group(1) for t, _, b in blocks(merged, "resource") if t == "aws_iam_role_policy"
                         and re.search(r"aws_iam_role\.smoke\.(id|name)\b", str(b.get("role", "")))
                         and (m := re.search(r"aws_iam_policy_document\.(\w+)", str(b.get("policy", ""))))})
    if not smoke_docs:
        problems.append("modules/iam gives the smoke role (aws_iam_role.smoke) no policy document")
    scoped = 0
    for name in smoke_docs:
        for i, st in enumerate((docs.get(name) or {}).get("statement") or []):
            if str(st.get("effect", "Allow")) == "Deny":
                continue
            where = f"modules/iam data.aws_iam_policy_document.{name} statement {st.get('sid') or f'#{i + 1}'}"
            actions = [str(a) for a in st.get("actions") or []]
            if st.get("not_actions"):
                problems.append(f"{where} uses not_actions: the smoke role's actions must be listed")
            writes = sorted(a for a in actions if writes_beyond_metrics(a))
            if writes:
                problems.append(f"{where} lets the smoke role write: {', '.join(writes)} (it only reads, and puts "
                                f"its verdict with {METRICS_ACTION} in var.smoke_metric_namespace)")
            if METRICS_ACTION not in actions:
                continue
            conds = [c for c in st.get("condition") or [] if c.get("variable") == "cloudwatch:namespace"]
            if not conds:
                problems.append(f"{where} allows {METRICS_ACTION} without a cloudwatch:namespace condition: the gate "
                                "could write any namespace (StringEquals cloudwatch:namespace = var.smoke_metric_namespace)")
            elif any(c.get("test") != "StringEquals" or c.get("values") != [NAMESPACE_VAR] for c in conds):
                got = [(c.get("test"), c.get("values")) for c in conds]
                problems.append(f"{where} scopes {METRICS_ACTION} to cloudwatch:namespace {got}; it must be StringEquals "
                                "[var.smoke_metric_namespace], the namespace the deploy alarms watch")
            else:
                scoped += 1
    if smoke_docs and not scoped:
        problems.append(f"modules/iam: the smoke role has no {METRICS_ACTION} statement scoped to var.smoke_metric_namespace "
                        "(the gate publishes the verdict the deploy alarms watch)")
    for comp, module in (("02-iam", "iam"), ("60-ecs", "ecs")):
        passed = named(infra.merged(f"{COMPONENTS_DIR}/{comp}"), "module").get(module, {}).get("smoke_metric_namespace")
        if passed != NAMESPACE_VAR:
            problems.append(f"{comp} passes smoke_metric_namespace = {passed!r} to modules/{module}; it must be "
                            "var.smoke_metric_namespace (common.tfvars), the same for the role's condition and the alarms")
    namespace = infra.tfvars.get("smoke_metric_namespace")
    if not namespace or str(namespace).startswith("AWS/"):
        problems.append(f"common.tfvars smoke_metric_namespace = {namespace!r}; set our own namespace (never AWS/), "
                        "which 02-iam and 60-ecs both take")
    return problems
