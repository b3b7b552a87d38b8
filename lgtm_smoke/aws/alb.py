"""ALB: listeners, listener rules against infra/routes.json, target health and settings.

Snapshot keys: alb.lb, alb.listeners, alb.rules {listener_arn: [rule]}, alb.tg_by_arn
{arn: tg}, alb.target_groups {route key: tg | None}, alb.health {arn: [desc]}, alb.tg_attrs
{arn: {key: value}}.
"""
from __future__ import annotations

from . import Finding, Snapshot
from .discovery import AwsSettings, Fetcher, code_of, describe_error, match_name


def fetch(f: Fetcher) -> None:
    s, elb = f.settings, f.clients["elbv2"]
    lb = _find_lb(f)
    if lb is None:
        return
    f.snapshot.put("alb.lb", lb)
    listeners_f = f.pool.submit(lambda: elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"])
    tgs = [tg for page in elb.get_paginator("describe_target_groups").paginate(LoadBalancerArn=lb["LoadBalancerArn"])
           for tg in page["TargetGroups"]]
    listeners = listeners_f.result()
    f.snapshot.put("alb.listeners", listeners)
    by_arn = {tg["TargetGroupArn"]: tg for tg in tgs}
    f.snapshot.put("alb.tg_by_arn", by_arn)
    names = {tg["TargetGroupName"]: tg for tg in tgs}
    f.snapshot.put("alb.target_groups", {key: names.get(match_name(key, names) or "") for key in s.routes.target_groups})

    jobs = [("rules", l["ListenerArn"]) for l in listeners] + [("health", a) for a in by_arn] + [("attrs", a) for a in by_arn]

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
            return job, Failed(describe_error(e, f"reading {kind} of {arn.rsplit(':', 1)[-1]}"))

    out: dict[str, dict] = {"rules": {}, "health": {}, "attrs": {}}
    for (kind, arn), value in f.map(one, jobs):
        out[kind][arn] = value
    f.snapshot.put("alb.rules", out["rules"])
    f.snapshot.put("alb.health", out["health"])
    f.snapshot.put("alb.tg_attrs", out["attrs"])


class Failed(str):
    """A per-resource fetch failure (one line), kept in place of the value."""


def _find_lb(f: Fetcher):
    s, elb = f.settings, f.clients["elbv2"]
    host = s.alb_host.lower()
    by_dns = host.endswith(".elb.amazonaws.com") and not (s.alb_name and s.alb_name_source == "--alb-name")
    if by_dns:
        for page in elb.get_paginator("describe_load_balancers").paginate():
            for lb in page["LoadBalancers"]:
                if lb.get("DNSName", "").lower() == host:
                    return lb
        f.snapshot.fail("alb", f"no load balancer with DNS name {s.alb_host} in {f.region}: check --alb / --region (or pass --alb-name)")
        return None
    if not s.alb_name:
        f.snapshot.fail("alb", f"cannot find the ALB: --alb {s.alb_host} is not an ELB DNS name; pass --alb-name "
                               "or set project_name and environment in common.tfvars")
        return None
    try:
        return elb.describe_load_balancers(Names=[s.alb_name])["LoadBalancers"][0]
    except Exception as e:  # noqa: BLE001
        if code_of(e) == "LoadBalancerNotFound":
            f.snapshot.fail("alb", f"no load balancer named {s.alb_name} (from {s.alb_name_source}) in {f.region}")
        else:
            f.snapshot.fail("alb", describe_error(e, f"finding load balancer {s.alb_name}"))
        return None


# --- helpers -----------------------------------------------------------------------------
def _lb_name(snap: Snapshot) -> str:
    return snap.need("alb.lb")["LoadBalancerName"]


def _listener(snap: Snapshot, s: AwsSettings) -> dict | None:
    port = s.routes.listener_port
    return next((l for l in snap.need("alb.listeners") if l.get("Port") == port), None)


def _paths(rule: dict) -> set[str]:
    values: set[str] = set()
    for c in rule.get("Conditions", []):
        if c.get("Field") == "path-pattern":
            values.update((c.get("PathPatternConfig") or {}).get("Values") or c.get("Values") or [])
    return values


def _forward_arns(action: dict) -> list[str]:
    if action.get("TargetGroupArn"):
        return [action["TargetGroupArn"]]
    return [tg["TargetGroupArn"] for tg in (action.get("ForwardConfig") or {}).get("TargetGroups", [])]


def _route_key(snap: Snapshot, s: AwsSettings, arn: str) -> str:
    tg = snap.need("alb.tg_by_arn").get(arn)
    if tg is None:
        return arn.rsplit(":", 1)[-1]
    name = tg["TargetGroupName"]
    return next((k for k in s.routes.target_groups if match_name(k, [name])), name)


def _headers(rule: dict) -> set[str]:
    """Names of the http-header conditions of a rule (their values are secrets: never read)."""
    return {(c.get("HttpHeaderConfig") or {}).get("HttpHeaderName", "") for c in rule.get("Conditions", [])
            if c.get("Field") == "http-header"}


def _describe_action(snap: Snapshot, s: AwsSettings, actions: list[dict]) -> tuple[str, str | None]:
    """('forward', route key) | ('fixed-response', status) | (other type, None)."""
    for a in sorted(actions, key=lambda a: a.get("Order", 0)):
        if a.get("Type") == "forward":
            keys = [_route_key(snap, s, arn) for arn in _forward_arns(a)]
            return "forward", ",".join(keys)
        if a.get("Type") == "fixed-response":
            return "fixed-response", str((a.get("FixedResponseConfig") or {}).get("StatusCode", ""))
    return (actions[0].get("Type") if actions else "none"), None


# --- checks ------------------------------------------------------------------------------
def check_listener_present(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    if _listener(snap, s) is None:
        ports = sorted(l.get("Port") for l in snap.need("alb.listeners"))
        return [Finding(f"ALB {_lb_name(snap)}", f"no listener on port {s.routes.listener_port} (listeners: {ports or 'none'})")]
    return []


def check_rules_match_routes(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Every rule of infra/routes.json is on the listener with the same priority, paths and action."""
    listener = _listener(snap, s)
    where = f"ALB {_lb_name(snap)}:{s.routes.listener_port}"
    if listener is None:
        return [Finding(where, "no listener to compare rules with")]
    rules = snap.need("alb.rules").get(listener["ListenerArn"])
    if isinstance(rules, Failed):
        return [Finding(where, str(rules))]
    findings = []
    by_prio = {str(r.get("Priority")): r for r in rules if not r.get("IsDefault")}
    for want in s.routes.alb_rules():
        res = f"{where} rule {want.priority} ({want.name})"
        got = by_prio.pop(str(want.priority), None)
        if got is None:
            findings.append(Finding(res, f"missing: expected {want.action} of {', '.join(want.paths)}"
                                         + (f" to target group {want.target_group}" if want.target_group else "")))
            continue
        if _paths(got) != set(want.paths):
            findings.append(Finding(res, f"path patterns {sorted(_paths(got))}, expected {sorted(want.paths)}"))
        if want.header and want.header not in _headers(got):
            findings.append(Finding(res, f"forwards without the {want.header} condition: anyone can reach {want.target_group}"))
        kind, key = _describe_action(snap, s, got.get("Actions", []))
        if want.action == "forward" and (kind != "forward" or key != want.target_group):
            findings.append(Finding(res, f"{kind}s to {key or '-'}, expected forward to target group {want.target_group}"))
        if want.action == "fixed-response" and (kind, key) != ("fixed-response", str(want.status)):
            findings.append(Finding(res, f"{kind} {key or ''}".rstrip() + f", expected a fixed {want.status} response"))
    for prio, extra in sorted(by_prio.items()):
        findings.append(Finding(f"{where} rule {prio}", f"not in infra/routes.json: paths {sorted(_paths(extra))}"))
    default = next((r for r in rules if r.get("IsDefault")), None)
    actions = default.get("Actions", []) if default else listener.get("DefaultActions", [])
    kind, key = _describe_action(snap, s, actions)
    want_status = str(s.routes.default_action["status"])
    if (kind, key) != ("fixed-response", want_status):
        findings.append(Finding(f"{where} default action", f"{kind} {key or '-'}, expected a fixed {want_status} response"))
    return findings


def check_rewrites(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Rules with a rewrite in routes.json (/tempo) carry that url-rewrite Transform; no others do."""
    listener = _listener(snap, s)
    where = f"ALB {_lb_name(snap)}:{s.routes.listener_port}"
    if listener is None:
        return [Finding(where, "no listener to read rewrites from")]
    rules = snap.need("alb.rules").get(listener["ListenerArn"])
    if isinstance(rules, Failed):
        return [Finding(where, str(rules))]
    by_prio = {str(r.get("Priority")): r for r in rules}
    findings = []
    for want in s.routes.rules:
        got = by_prio.get(str(want.priority))
        res = f"{where} rule {want.priority} ({want.name})"
        rewrites = [(rw.get("Regex"), rw.get("Replace")) for t in (got or {}).get("Transforms") or []
                    if t.get("Type") == "url-rewrite" for rw in (t.get("UrlRewriteConfig") or {}).get("Rewrites", [])]
        if want.rewrite and got is None:
            findings.append(Finding(res, "missing, so its url-rewrite is not in place"))
        elif want.rewrite and tuple(want.rewrite) not in rewrites:
            seen = f"url-rewrite {rewrites}" if rewrites else "no Transforms in describe_rules"
            findings.append(Finding(res, f"{seen}, expected url-rewrite {want.rewrite[0]} -> {want.rewrite[1]} "
                                         "(without it the backend sees the prefixed path and answers 404)"))
        elif not want.rewrite and rewrites:
            findings.append(Finding(res, f"has url-rewrite {rewrites} that infra/routes.json does not have"))
    return findings


def _groups(snap: Snapshot, s: AwsSettings):
    tgs = snap.need("alb.target_groups")
    found, findings = [], []
    for key in s.routes.target_groups:
        tg = tgs.get(key)
        if tg is None:
            findings.append(Finding(f"target group {key}", f"not attached to ALB {_lb_name(snap)} (looked for '{key}' or '*-{key}')"))
        else:
            found.append((key, f"target group {tg['TargetGroupName']}", tg))
    return found, findings


def check_targets_healthy(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    found, findings = _groups(snap, s)
    health = snap.need("alb.health")
    for _, name, tg in found:
        descs = health.get(tg["TargetGroupArn"])
        if isinstance(descs, Failed):
            findings.append(Finding(name, str(descs)))
            continue
        healthy = [d for d in descs if d["TargetHealth"]["State"] == "healthy"]
        for d in descs:
            th = d["TargetHealth"]
            if th["State"] not in ("healthy", "initial", "draining", "unused"):
                findings.append(Finding(name, f"target {d['Target']['Id']}:{d['Target'].get('Port')} is {th['State']}: "
                                              f"{th.get('Reason', '')} {th.get('Description', '')}".rstrip()))
        if not healthy:
            states = ", ".join(f"{d['Target']['Id']}={d['TargetHealth']['State']}" for d in descs) or "no targets registered"
            findings.append(Finding(name, f"no healthy target ({states})"))
    return findings


def check_health_check_settings(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    found, findings = _groups(snap, s)
    for key, name, tg in found:
        want = s.routes.target_groups[key]["health_check"]
        port = tg.get("HealthCheckPort")
        port_ok = port == str(want["port"]) or (port == "traffic-port" and tg.get("Port") == want["port"])
        if tg.get("HealthCheckPath") != want["path"] or not port_ok:
            findings.append(Finding(name, f"health check {tg.get('HealthCheckPath')} on port {port}, "
                                          f"expected {want['path']} on port {want['port']} (infra/routes.json)"))
    return findings


def check_deregistration_delay(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Deregistration delay ≤ the service's container stopTimeout (seed: both 120 s)."""
    from .ecs import stop_timeout

    found, findings = _groups(snap, s)
    attrs, taskdefs = snap.need("alb.tg_attrs"), snap.need("ecs.taskdefs")
    for key, name, tg in found:
        svc = s.routes.target_groups[key]["service"]
        got = attrs.get(tg["TargetGroupArn"])
        if isinstance(got, Failed):
            findings.append(Finding(name, str(got)))
            continue
        if svc not in taskdefs or taskdefs[svc] is None:
            findings.append(Finding(name, f"no task definition of ECS service {svc} to read stopTimeout from"))
            continue
        delay, limit = int(got.get("deregistration_delay.timeout_seconds", 300)), stop_timeout(taskdefs[svc])
        if delay > limit:
            findings.append(Finding(name, f"deregistration delay {delay}s > {svc} container stopTimeout {limit}s: "
                                          "ECS kills the task while the ALB still drains to it"))
    return findings
