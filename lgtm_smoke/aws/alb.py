"""ALB: the listeners, the listener rules against infra/routes.json, target health and
settings.

Snapshot keys: alb.lb, alb.listeners, alb.rules {listener_arn: [rule]}, alb.tg_by_arn
{arn: tg}, alb.target_groups {route key: tg | None}, alb.health {arn: [desc]}, alb.tg_attrs
{arn: {key: value}}.

Target groups are looked up by name, not through DescribeTargetGroups(LoadBalancerArn): AWS
lists there only the groups the load balancer routes to, so a group no rule forwards to any
more would silently vanish; by name it is found, and its targets read `unused` /
`Target.NotInUse`, which the health check reports as orphaned.
"""

from __future__ import annotations

from .errors import code_of
from .settings import AwsSettings, match_name
from .snapshot import Finding, Missing, Snapshot, aws_check

NO_ANSWER = (
    "no answer to {what} within the fetch deadline: AWS throttled or did not answer (adaptive retries "
    "were still waiting); run again"
)


def fetch(f) -> None:
    s, elb = f.settings, f.clients["elbv2"]
    lb = _find_lb(f)
    if lb is None:
        return
    f.snapshot.put("alb.lb", lb)
    listeners_f = f.pool.submit(
        f.attempt,
        "alb.listeners",
        f"reading the listeners of {lb['LoadBalancerName']}",
        lambda: elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"],
    )

    def target_groups():
        tgs = [tg for page in elb.get_paginator("describe_target_groups").paginate() for tg in page["TargetGroups"]]
        names = {tg["TargetGroupName"]: tg for tg in tgs}
        f.snapshot.put("alb.tg_by_arn", {tg["TargetGroupArn"]: tg for tg in tgs})
        return {key: names.get(match_name(key, names) or "") for key in s.routes.target_groups}

    ours = f.attempt("alb.target_groups", "reading the target groups", target_groups) or {}
    listeners = listeners_f.result() or []
    by_arn = [tg["TargetGroupArn"] for tg in ours.values() if tg]
    jobs = [("rules", lst["ListenerArn"]) for lst in listeners] + [("health", a) for a in by_arn] + [("attrs", a) for a in by_arn]

    def one(job):
        kind, arn = job
        try:
            if kind == "rules":
                return job, [r for p in elb.get_paginator("describe_rules").paginate(ListenerArn=arn) for r in p["Rules"]]
            if kind == "health":
                return job, elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
            attrs = elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
            return job, {a["Key"]: a["Value"] for a in attrs}
        except Exception as e:  # noqa: BLE001
            return job, Failed(f.describe(e, f"reading {kind} of {arn.rsplit(':', 1)[-1]}"))

    # Put in place first and filled as answers come: past the fetch deadline (a throttled
    # account) the checks still read what did arrive, and name what did not.
    out: dict[str, dict] = {"rules": {}, "health": {}, "attrs": {}}
    if "alb.listeners" not in f.snapshot.errors:
        f.snapshot.put("alb.rules", out["rules"])
    if "alb.target_groups" not in f.snapshot.errors:
        f.snapshot.put("alb.health", out["health"])
        f.snapshot.put("alb.tg_attrs", out["attrs"])

    def store(job):
        (kind, arn), value = one(job)
        out[kind][arn] = value

    f.map(store, jobs)


class Failed(str):
    """A per-resource fetch failure (one line), kept in place of the value."""


def _find_lb(f):
    s, elb = f.settings, f.clients["elbv2"]
    host = s.alb_host.lower()
    by_dns = host.endswith(".elb.amazonaws.com") and not (s.alb_name and s.alb_name_source == "--alb-name")
    if by_dns:
        for page in elb.get_paginator("describe_load_balancers").paginate():
            for lb in page["LoadBalancers"]:
                if lb.get("DNSName", "").lower() == host:
                    return lb
        f.snapshot.fail(
            "alb",
            f"no load balancer with DNS name {s.alb_host} in {f.region}: check --alb / --region (or pass --alb-name)",
        )
        return None
    if not s.alb_name:
        f.snapshot.fail(
            "alb",
            f"cannot find the ALB: --alb {s.alb_host} is not an ELB DNS name; pass --alb-name "
            "or set project_name and environment in common.tfvars",
        )
        return None
    try:
        return elb.describe_load_balancers(Names=[s.alb_name])["LoadBalancers"][0]
    except Exception as e:  # noqa: BLE001
        if code_of(e) == "LoadBalancerNotFound":
            f.snapshot.fail("alb", f"no load balancer named {s.alb_name} (from {s.alb_name_source}) in {f.region}")
        else:
            f.snapshot.fail("alb", f.describe(e, f"finding load balancer {s.alb_name}"))
        return None


# --- what routes.json says the listener must hold -------------------------------------------
def expected_rules(s: AwsSettings) -> list[dict]:
    """routes.json's rules as the ALB rules Terraform makes of them (RouteTable.alb_rules, the
    one expansion the reference stack uses too): {priority, name, paths, kind: forward|fixed,
    target_group, status, header, rewrite}. An `edge_auth` rule is two: the forward rule
    (paths AND the edge header) and a fixed-response twin at priority + 500."""
    return [
        {
            "priority": r.priority,
            "name": r.name,
            "paths": tuple(r.paths),
            "kind": "forward" if r.forwards else "fixed",
            "target_group": r.target_group,
            "status": str(r.fixed.status) if r.fixed else None,
            "header": r.header,
            "rewrite": tuple(r.rewrite) if r.rewrite else None,
        }
        for r in s.routes.alb_rules()
    ]


def expected_default(s: AwsSettings) -> tuple[str, str]:
    """('fixed', status) for the allow-list's default action, ('forward', group) for the old table."""
    default = s.routes.default
    if default.fixed is None:
        return "forward", str(default.target_group)
    return "fixed", str(default.fixed.status)


# --- helpers -----------------------------------------------------------------------------
def _lb_name(snap: Snapshot) -> str:
    return snap.need("alb.lb")["LoadBalancerName"]


def _listener(snap: Snapshot, s: AwsSettings) -> dict | None:
    port = s.rules_listener.get("port")
    return next((lst for lst in snap.need("alb.listeners") if lst.get("Port") == port), None)


def _where(snap: Snapshot, s: AwsSettings) -> str:
    return f"ALB {_lb_name(snap)}:{s.rules_listener.get('port')}"


def _rules(snap: Snapshot, s: AwsSettings) -> tuple[dict, list[dict]]:
    listener = _listener(snap, s)
    if listener is None:
        raise Missing(
            f"{_where(snap, s)}: no {s.rules_listener.get('protocol', '')} listener on port "
            f"{s.rules_listener.get('port')} to read the rules from (rules_listener in infra/routes.json)"
        )
    rules = snap.need("alb.rules").get(listener["ListenerArn"], Failed(NO_ANSWER.format(what="DescribeRules")))
    if isinstance(rules, Failed):
        raise Missing(str(rules))
    return listener, rules


def _paths(rule: dict) -> set[str]:
    values: set[str] = set()
    for c in rule.get("Conditions", []):
        if c.get("Field") == "path-pattern":
            values.update((c.get("PathPatternConfig") or {}).get("Values") or c.get("Values") or [])
    return values


def _headers(rule: dict) -> dict[str, list[str]]:
    return {
        (c.get("HttpHeaderConfig") or {}).get("HttpHeaderName", "").lower(): (c.get("HttpHeaderConfig") or {}).get("Values", [])
        for c in rule.get("Conditions", [])
        if c.get("Field") == "http-header"
    }


def _forward_arns(action: dict) -> list[str]:
    if action.get("TargetGroupArn"):
        return [action["TargetGroupArn"]]
    return [tg["TargetGroupArn"] for tg in (action.get("ForwardConfig") or {}).get("TargetGroups", [])]


def _route_key(snap: Snapshot, s: AwsSettings, arn: str) -> str:
    """routes.json's key of the group `arn` names (arn:…:targetgroup/<name>/<id>)."""
    parts = arn.rsplit(":", 1)[-1].split("/")
    name = parts[1] if len(parts) == 3 else arn
    return next((k for k in s.routes.target_groups if match_name(k, [name])), name)


def _describe_action(snap: Snapshot, s: AwsSettings, actions: list[dict]) -> tuple[str, str | None]:
    """('forward', route key) | ('fixed', status) | (other type, None)."""
    for a in sorted(actions, key=lambda a: a.get("Order", 0)):
        if a.get("Type") == "forward":
            return "forward", ",".join(_route_key(snap, s, arn) for arn in _forward_arns(a))
        if a.get("Type") == "fixed-response":
            return "fixed", str((a.get("FixedResponseConfig") or {}).get("StatusCode", ""))
        if a.get("Type") == "redirect":
            return "redirect", str((a.get("RedirectConfig") or {}).get("Port", ""))
    return (actions[0].get("Type") if actions else "none"), None


def _status_ok(want: str, got: str | None) -> bool:
    return want == got or (want == "4xx" and str(got or "").startswith("4"))


# --- checks ------------------------------------------------------------------------------
def find_listener_present(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """The listener routes.json puts the rules on is there (HTTPS on 443 with a certificate and
    the TLS policy routes.json names), and every other listener routes.json lists redirects to it."""
    want = s.rules_listener
    listeners = snap.need("alb.listeners")
    res = f"ALB {_lb_name(snap)}"
    got = _listener(snap, s)
    if got is None:
        ports = sorted(lst.get("Port") for lst in listeners)
        return [
            Finding(
                res,
                f"no {want.get('protocol', '')} listener on port {want.get('port')} "
                f"(rules_listener {want['name']} in infra/routes.json; listeners: {ports or 'none'})",
            )
        ]
    findings = []
    if want.get("protocol") and got.get("Protocol") != want["protocol"]:
        findings.append(Finding(f"{res}:{got['Port']}", f"protocol {got.get('Protocol')}, expected {want['protocol']}"))
    if want.get("protocol") == "HTTPS" and not got.get("Certificates"):
        findings.append(Finding(f"{res}:{got['Port']}", "HTTPS listener without a certificate (certificate_arn unset?)"))
    if want.get("ssl_policy") and got.get("SslPolicy") != want["ssl_policy"]:
        findings.append(Finding(f"{res}:{got['Port']}", f"TLS policy {got.get('SslPolicy')}, expected {want['ssl_policy']}"))
    for name, other in s.routes.listeners.items():
        if name == want["name"] or not other.get("redirect_to"):
            continue
        lst = next((x for x in listeners if x.get("Port") == other.get("port")), None)
        kind, port = _describe_action(snap, s, (lst or {}).get("DefaultActions", []))
        if lst is None or kind != "redirect" or port != str(want.get("port")):
            findings.append(
                Finding(
                    f"{res}:{other.get('port')}",
                    f"{'no listener' if lst is None else kind}, expected a "
                    f"redirect to {other['redirect_to']} on {want.get('port')}",
                )
            )
    return findings


def find_rules_match_routes(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Every rule of infra/routes.json is on the rules listener with the same priority, paths,
    edge-secret header and action; no extra rules; the default action as routes.json says."""
    listener, rules = _rules(snap, s)
    where = _where(snap, s)
    findings = []
    by_prio = {str(r.get("Priority")): r for r in rules if not r.get("IsDefault")}
    for want in expected_rules(s):
        res = f"{where} rule {want['priority']} ({want['name']})"
        got = by_prio.pop(str(want["priority"]), None)
        target = f" to target group {want['target_group']}" if want["kind"] == "forward" else f" {want.get('status')}"
        if got is None:
            findings.append(Finding(res, f"missing: expected {want['kind']}{target} for {', '.join(want['paths'])}"))
            continue
        if _paths(got) != set(want["paths"]):
            findings.append(Finding(res, f"path patterns {sorted(_paths(got))}, expected {sorted(want['paths'])}"))
        headers = _headers(got)
        if want["header"] and not headers.get(want["header"].lower()):
            findings.append(Finding(res, f"no {want['header']} condition: the route is open without the edge secret"))
        elif not want["header"] and headers:
            findings.append(Finding(res, f"has header conditions {sorted(headers)} that infra/routes.json does not have"))
        kind, key = _describe_action(snap, s, got.get("Actions", []))
        if want["kind"] == "forward" and (kind != "forward" or key != want["target_group"]):
            findings.append(Finding(res, f"{kind}s to {key or '-'}, expected forward to target group {want['target_group']}"))
        if want["kind"] == "fixed" and (kind != "fixed" or not _status_ok(want["status"], key)):
            findings.append(Finding(res, f"{kind} {key or ''}".rstrip() + f", expected a fixed {want['status']} response"))
    for prio, extra in sorted(by_prio.items()):
        findings.append(Finding(f"{where} rule {prio}", f"not in infra/routes.json: paths {sorted(_paths(extra))}"))
    default = next((r for r in rules if r.get("IsDefault")), None)
    actions = default.get("Actions", []) if default else listener.get("DefaultActions", [])
    kind, key = _describe_action(snap, s, actions)
    want_kind, want_key = expected_default(s)
    if kind != want_kind or (key != want_key if want_kind == "forward" else not _status_ok(want_key, key)):
        findings.append(Finding(f"{where} default action", f"{kind} {key or '-'}, expected {want_kind} {want_key}"))
    return findings


def find_rewrites(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Rules with a rewrite in routes.json (/tempo) carry that url-rewrite Transform; no others do."""
    gap = snap.get("model_gaps", {}).get("elbv2.Rule.Transforms")
    if gap:
        raise Missing(gap)
    _, rules = _rules(snap, s)
    where = _where(snap, s)
    by_prio = {str(r.get("Priority")): r for r in rules}
    findings = []
    for want in expected_rules(s):
        got = by_prio.get(str(want["priority"]))
        res = f"{where} rule {want['priority']} ({want['name']})"
        rewrites = [
            (rw.get("Regex"), rw.get("Replace"))
            for t in (got or {}).get("Transforms") or []
            if t.get("Type") == "url-rewrite"
            for rw in (t.get("UrlRewriteConfig") or {}).get("Rewrites", [])
        ]
        if want["rewrite"] and got is None:
            findings.append(Finding(res, "missing, so its url-rewrite is not in place"))
        elif want["rewrite"] and tuple(want["rewrite"]) not in rewrites:
            seen = f"url-rewrite {rewrites}" if rewrites else "no Transforms in describe_rules"
            findings.append(
                Finding(
                    res,
                    f"{seen}, expected url-rewrite {want['rewrite'][0]} -> {want['rewrite'][1]} "
                    "(without it the backend sees the prefixed path and answers 404)",
                )
            )
        elif not want["rewrite"] and rewrites:
            findings.append(Finding(res, f"has url-rewrite {rewrites} that infra/routes.json does not have"))
    return findings


def _groups(snap: Snapshot, s: AwsSettings):
    tgs = snap.need("alb.target_groups")
    found, findings = [], []
    for key in s.routes.target_groups:
        tg = tgs.get(key)
        if tg is None:
            findings.append(Finding(f"target group {key}", f"not found (looked for a target group named '{key}' or '*-{key}')"))
        else:
            found.append((key, f"target group {tg['TargetGroupName']}", tg))
    return found, findings


def find_targets_healthy(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Every target group has ≥ 1 healthy target and none unhealthy; a group no listener rule
    forwards to (targets `unused` / `Target.NotInUse`) is orphaned, never healthy."""
    found, findings = _groups(snap, s)
    health = snap.need("alb.health")
    lb_arn = snap.need("alb.lb")["LoadBalancerArn"]
    for _, name, tg in found:
        descs = health.get(tg["TargetGroupArn"], Failed(NO_ANSWER.format(what="DescribeTargetHealth")))
        if isinstance(descs, Failed):
            findings.append(Finding(name, str(descs)))
            continue
        orphaned = [d for d in descs if d["TargetHealth"].get("Reason") == "Target.NotInUse"]
        if orphaned or lb_arn not in tg.get("LoadBalancerArns", [lb_arn]):
            findings.append(
                Finding(
                    name,
                    f"orphaned: no rule of ALB {_lb_name(snap)} forwards to it (targets unused, "
                    "Target.NotInUse): its rule was removed or points at another group",
                )
            )
            continue
        healthy = [d for d in descs if d["TargetHealth"]["State"] == "healthy"]
        for d in descs:
            th = d["TargetHealth"]
            if th["State"] not in ("healthy", "initial", "draining"):
                findings.append(
                    Finding(
                        name,
                        f"target {d['Target']['Id']}:{d['Target'].get('Port')} is {th['State']}: "
                        f"{th.get('Reason', '')} {th.get('Description', '')}".rstrip(),
                    )
                )
        if not healthy:
            states = ", ".join(f"{d['Target']['Id']}={d['TargetHealth']['State']}" for d in descs) or "no targets registered"
            findings.append(Finding(name, f"no healthy target ({states})"))
    return findings


def find_health_check_settings(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Target-group health checks use the path/port in infra/routes.json."""
    found, findings = _groups(snap, s)
    for key, name, tg in found:
        want = s.routes.target_groups[key]["health_check"]
        port = tg.get("HealthCheckPort")
        port_ok = port == str(want["port"]) or (port == "traffic-port" and tg.get("Port") == want["port"])
        if tg.get("HealthCheckPath") != want["path"] or not port_ok:
            findings.append(
                Finding(
                    name,
                    f"health check {tg.get('HealthCheckPath')} on port {port}, "
                    f"expected {want['path']} on port {want['port']} (infra/routes.json)",
                )
            )
    return findings


def find_deregistration_delay(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Deregistration delay ≤ the service's container stopTimeout (seed: both 120 s)."""
    from .ecs import stop_timeout

    found, findings = _groups(snap, s)
    attrs, taskdefs = snap.need("alb.tg_attrs"), snap.need("ecs.taskdefs")
    for key, name, tg in found:
        svc = s.routes.target_groups[key]["service"]
        got = attrs.get(tg["TargetGroupArn"], Failed(NO_ANSWER.format(what="DescribeTargetGroupAttributes")))
        if isinstance(got, Failed):
            findings.append(Finding(name, str(got)))
            continue
        if not taskdefs.get(svc) or isinstance(taskdefs[svc], str):
            findings.append(
                Finding(name, taskdefs.get(svc) or f"no task definition of ECS service {svc} to read stopTimeout from")
            )
            continue
        delay, limit = int(got.get("deregistration_delay.timeout_seconds", 300)), stop_timeout(taskdefs[svc])
        if delay > limit:
            findings.append(
                Finding(
                    name,
                    f"deregistration delay {delay}s > {svc} container stopTimeout {limit}s: "
                    "ECS kills the task while the ALB still drains to it",
                )
            )
    return findings


listener_present = aws_check("aws.alb.listener_present", find_listener_present)
rules_match_routes = aws_check("aws.alb.rules_match_routes", find_rules_match_routes)
rewrites = aws_check("aws.alb.rewrites", find_rewrites)
targets_healthy = aws_check("aws.alb.targets_healthy", find_targets_healthy)
health_check_settings = aws_check("aws.alb.health_check_settings", find_health_check_settings)
deregistration_delay = aws_check("aws.alb.deregistration_delay", find_deregistration_delay)
