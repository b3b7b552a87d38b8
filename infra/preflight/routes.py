"""The ALB: built from the route table infra/routes.json, an allow-list that keeps every admin
route closed, HTTPS with a current TLS policy and port 80 redirecting, security groups facing clients
only at the ALB, target-group health checks on what each service serves, and Tempo's OTLP receiver
reachable at its target group."""

from __future__ import annotations

import json
import re

from .tree import COMPONENTS_DIR, HERE, MODULES_DIR, Infra, blocks, dig, first, named, preflight

# Health endpoints each service really serves, unprefixed (backend-api.md: /ready is
# never under http_api_prefix; Grafana's is /api/health).
HEALTH_PATHS = {
    "grafana": {"/api/health"},
    "mimir": {"/ready"},
    "loki": {"/ready"},
    "tempo": {"/ready"},
    "pyroscope": {"/ready"},
    "alloy": {"/-/ready", "/-/healthy"},
}

ADMIN_ROUTES = json.loads((HERE / "admin_routes.json").read_text())
# Where a backend's routes can be reached from outside: at the root and under each prefix.
PUBLIC_PREFIXES = ("", "/loki", "/prometheus", "/tempo", "/pyroscope")
# Admin-list routes the allow-list forwards on purpose, with the reason.
HARMLESS_ROUTES = {
    ("tempo", "/api/echo"): "answers `echo` to any method and changes nothing (the suite's Tempo liveness probe)",
}
# A current TLS policy: TLS 1.3 with at most TLS 1.2 besides (AWS's TLS13-1-2/1-3 families).
CURRENT_TLS_POLICY = re.compile(r"^ELBSecurityPolicy-TLS13-1-[23]-")
ALB_MAX_PATHS = 3  # AWS: 3 comparison strings per condition, 5 per rule (2 left for the edge secret)


def _sample(pattern: str) -> str:
    """A concrete path an ALB path pattern (or a {x} route template) matches."""
    return re.sub(r"\{[^}]+\}", "x", pattern).replace("*", "x").replace("?", "x")


def _alb_match(pattern: str, path: str) -> bool:
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, path) is not None


def _first_rule(rules: list[dict], path: str, with_secret: bool = True) -> dict | None:
    """The rule an ALB picks for `path` (edge_auth forwards need the secret)."""
    for r in sorted(rules, key=lambda r: r.get("priority", 0)):
        if r.get("edge_auth") and not with_secret:
            continue
        if any(_alb_match(p, path) for p in r.get("paths", [])):
            return r
    return None


def _rewritten(rule: dict, path: str) -> str:
    rw = rule.get("rewrite")
    if not rw:
        return path
    return re.sub(rw["regex"], re.sub(r"\$(\d)", r"\\\1", rw["replace"]), path)


def _listen_ports(infra: Infra, svc: str) -> set[int]:
    """Ports a service's own config makes it listen on."""
    if svc == "grafana":
        m = re.search(r"(?m)^\s*http_port\s*=\s*(\d+)", infra.text(f"{infra.image_dir('grafana')}/grafana.ini"))
        return {int(m.group(1))} if m else {3000}
    if svc == "alloy":
        m = re.search(r"--server\.http\.listen-addr=[^:\"]*:(\d+)", infra.text(f"{infra.image_dir('alloy')}/Dockerfile"))
        ports = {int(m.group(1))} if m else {12345}
        ports |= {int(p) for p in re.findall(r'endpoint\s*=\s*"0\.0\.0\.0:(\d+)"', infra.config_text("alloy"))}
        return ports
    cfg = infra.config(svc)
    ports = set()
    if dig(cfg, ("server", "http_listen_port")):
        ports.add(int(dig(cfg, ("server", "http_listen_port"))))
    for proto in (dig(cfg, ("distributor", "receivers", "otlp", "protocols")) or {}).values():
        ep = (proto or {}).get("endpoint", "")
        if ep.startswith("0.0.0.0:"):
            ports.add(int(ep.rsplit(":", 1)[1]))
    return ports


@preflight
def check_health_checks_match_services(infra: Infra) -> list[str]:
    """Every target group's port and health-check path/port exist on its service: the
    health path is the service's own unprefixed endpoint and both ports are ports the
    service's config listens on; container_port in tfvars matches the config.

    2026-01-16 01:30/03:15 (/tempo/ready and /pyroscope/ready -> 404) and the Tempo OTLP
    target group, whose traffic port 4318 has no /ready (checked on 3200).
    """
    problems = []
    services = infra.service_config()
    for tg_name, tg in (infra.routes.get("target_groups") or {}).items():
        svc = tg.get("service")
        if svc not in services:
            problems.append(f"target group {tg_name}: service {svc!r} is not in service_config")
            continue
        ports = _listen_ports(infra, svc)
        hc = tg.get("health_check") or {}
        if hc.get("path") not in HEALTH_PATHS.get(svc, set()):
            problems.append(
                f"target group {tg_name}: health check path {hc.get('path')!r} is not served by {svc} "
                f"(use {sorted(HEALTH_PATHS.get(svc, set()))}, never a route prefix)"
            )
        if tg.get("port") not in ports:
            problems.append(f"target group {tg_name}: port {tg.get('port')} is not a port {svc} listens on {sorted(ports)}")
        if hc.get("port") not in ports:
            problems.append(
                f"target group {tg_name}: health check port {hc.get('port')} is not a port {svc} listens on {sorted(ports)}"
            )
    for svc, cfg in services.items():
        if (svc in infra.routes.get("target_groups", {})
                or svc in {tg.get("service") for tg in infra.routes.get("target_groups", {}).values()}):
            ports = _listen_ports(infra, svc)
            if cfg.get("container_port") not in ports:
                problems.append(f"{svc}: service_config container_port {cfg.get('container_port')} "
                                f"is not a port it listens on {sorted(ports)}")
    return problems


@preflight
def check_alb_rules_from_route_table(infra: Infra) -> list[str]:
    """The ALB is built from infra/routes.json: 50-alb decodes the file, the module makes a
    target group per entry and a rule per route, turning "rewrite" into a url-rewrite
    transform (aws provider >= 6.19); the provider constraint allows that.

    2026-01-16 01:00 (/tempo/api/search -> 404, "ALB path rewrite not supported") and
    2026-01-15 15:00 (the 4318 target group deleted by hand).
    """
    problems = []
    main = infra.text(f"{COMPONENTS_DIR}/50-alb/main.tf")
    if not re.search(r'jsondecode\(file\("\$\{path\.(root|module)\}/[./]*routes\.json"\)\)', main):
        problems.append("50-alb does not jsondecode(file(.../routes.json)); the ALB must be built from the route table")
    else:
        rel_m = re.search(r'file\("\$\{path\.(?:root|module)\}/([./]*routes\.json)"\)', main)
        assert rel_m is not None  # the jsondecode(file(...)) search above matched, so this one does
        rel = rel_m.group(1)
        if (infra.path(f"{COMPONENTS_DIR}/50-alb") / rel).resolve() != infra.path("infra/routes.json").resolve():
            problems.append(f"50-alb reads {rel}, which is not infra/routes.json")
    alb = infra.merged(f"{MODULES_DIR}/alb")
    res = {(t, n): b for t, n, b in blocks(alb, "resource")}
    tg = res.get(("aws_lb_target_group", "this"))
    rule = res.get(("aws_lb_listener_rule", "this"))
    if not tg or "target_groups" not in str(tg.get("for_each", "")):
        problems.append("modules/alb target groups are not built for_each over routes.target_groups")
    if not rule or "rules" not in str(rule.get("for_each", "")):
        problems.append("modules/alb listener rules are not built for_each over routes.rules")
    else:
        dyn = {}
        for entry in rule.get("dynamic", []) or []:
            dyn.update(entry)
        transform = dyn.get("transform")
        content = first((transform or {}).get("content")) or {}
        if not transform or content.get("type") != "url-rewrite" or "rewrite" not in str(transform.get("for_each", "")):
            problems.append("modules/alb listener rule has no dynamic url-rewrite transform fed by the route's rewrite")
        elif "regex" not in json.dumps(content) or "replace" not in json.dumps(content):
            problems.append("modules/alb url-rewrite transform does not pass the route's regex and replace")
    rewrites = [r for r in infra.routes.get("rules", []) if r.get("rewrite")]
    for r in rewrites:
        if not r["rewrite"].get("regex", "").startswith("^"):
            problems.append(f"route {r['name']}: rewrite regex {r['rewrite'].get('regex')!r} must be anchored at ^")
    for comp in infra.components + [f"../../modules/{m}" for m in infra.modules]:
        text = infra.dir_text(f"{COMPONENTS_DIR}/{comp}")
        for m in re.finditer(r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*"([^"]+)"', text):
            if not re.fullmatch(r"~>\s*6\.(19|[2-9]\d)", m.group(1).strip()):
                problems.append(f"{comp}: aws provider constraint {m.group(1)!r} must be ~> 6.19: >= 6.19 for the "
                                "listener rule transform, and no next major version picked up unasked")
    return problems


@preflight
def check_routes_allow_list_closed(infra: Infra) -> list[str]:
    """routes.json is an allow-list that keeps every admin route closed: the default action
    is the ALB's fixed 404; no rule lets an admin, debug, flush, shutdown, ring, config,
    metrics, pprof or status route of any backend (infra/preflight/admin_routes.json, from
    the upstream sources) reach that backend at any public prefix; the /tempo rewrite
    applies only to Tempo's /api/ read paths and is on every /tempo rule; every backend rule
    needs the edge secret, and its 401 twin (+500) is not shadowed; at most 3 paths a rule.

    Issue 12 (backend-api: Tempo 2.9 registers /flush and /shutdown for every method, so
    `/tempo/*` forwarded whole lets one anonymous OPTIONS stop ingestion); 2026-01-16 01:00
    (/tempo/api/search 404 without the rewrite).
    """
    problems = []
    routes = infra.routes
    rules = routes.get("rules") or []
    tgs = routes.get("target_groups") or {}
    default = routes.get("default_action") or {}
    if default.get("type") != "fixed-response" or default.get("status") != 404:
        problems.append(f"routes.json default_action is {default or 'missing'}; it must be a fixed-response 404 "
                        "(whatever no rule allows never reaches a backend)")
    edge = routes.get("edge_auth") or {}
    if not edge.get("header") or (edge.get("unauthenticated") or {}).get("status") != 401:
        problems.append("routes.json edge_auth needs a header and an unauthenticated fixed-response 401")
    for r in rules:
        name = r.get("name")
        if r.get("action") != "forward":
            problems.append(f"route {name}: action {r.get('action')!r}; the allow-list has forward rules only (no deny list)")
            continue
        tg = tgs.get(r.get("target_group"))
        if tg is None:
            problems.append(f"route {name}: target group {r.get('target_group')!r} is not in target_groups")
            continue
        if not 1 <= len(r.get("paths") or []) <= ALB_MAX_PATHS:
            problems.append(f"route {name}: {len(r.get('paths') or [])} paths; an ALB condition takes 1..{ALB_MAX_PATHS} "
                            "(3 per condition, 5 per rule with the two edge-secret values)")
        if tg.get("service") != "grafana" and not r.get("edge_auth"):
            problems.append(f"route {name}: forwards to {r['target_group']} without edge_auth: anyone can reach "
                            f"{', '.join(r.get('paths', []))}")
        to_tempo_api = tg.get("service") == "tempo" and any(p.startswith("/tempo/") for p in r.get("paths", []))
        if to_tempo_api and not r.get("rewrite"):
            problems.append(f"route {name}: forwards {', '.join(r['paths'])} to {r['target_group']} without the /tempo "
                            "rewrite; Tempo answers 404 (2026-01-16 01:00)")
        if r.get("rewrite"):
            if not str(r["rewrite"].get("regex", "")).startswith("^"):
                problems.append(f"route {name}: rewrite regex {r['rewrite'].get('regex')!r} must be anchored at ^")
            for pattern in r.get("paths", []):
                seen = _rewritten(r, _sample(pattern))
                if not seen.startswith("/api/"):
                    problems.append(f"route {name}: {pattern} is rewritten to {seen}; the /tempo rewrite may only "
                                    "reach Tempo's /api/ read paths (Tempo's /flush and /shutdown act on any method)")
    service_of = {name: tg.get("service") for name, tg in tgs.items()}
    for backend, data in (ADMIN_ROUTES.get("backends") or {}).items():
        for route in data.get("routes", []):
            target = _sample(route["path"])
            if (backend, route["path"]) in HARMLESS_ROUTES:
                continue
            for prefix in PUBLIC_PREFIXES:
                path = prefix + target
                rule = _first_rule(rules, path)
                if rule is None or service_of.get(rule.get("target_group")) != backend:
                    continue
                seen = _rewritten(rule, path)
                if seen == target or seen.rstrip("/") == target.rstrip("/"):
                    problems.append(f"route {rule.get('name')}: {path} reaches {backend} as {seen}, its "
                                    f"{route['path']} ({backend} {data.get('version')} {route.get('source')}); "
                                    "admin routes must get the ALB's 404")
    for r in rules:
        if not r.get("edge_auth"):
            continue
        twin = r.get("priority", 0) + 500
        clash = [o for o in rules if o.get("priority") == twin]
        if clash:
            problems.append(f"route {r['name']}: its 401 rule's priority {twin} is taken by {clash[0].get('name')}")
        for pattern in r.get("paths", []):
            path = _sample(pattern)
            first = _first_rule([o for o in rules if o.get("priority", 0) < twin], path, with_secret=False)
            if first is not None and not first.get("edge_auth"):
                problems.append(f"route {r['name']}: {path} without the edge secret goes to {first.get('name')} "
                                f"(priority {first.get('priority')}) before the 401 rule at {twin}")
    return problems


@preflight
def check_alb_listeners_https_and_redirect(infra: Infra) -> list[str]:
    """HTTPS carries the rules with a current TLS policy and a certificate variable; port 80
    only redirects to HTTPS; the security groups let clients reach the listener ports only
    and the tasks only from the ALB.

    Issue 12: plain HTTP, public, the Grafana login in clear text; 2026-01-15 15:00 (SG and
    listener ports out of step with the target groups).
    """
    problems = []
    routes = infra.routes
    listeners = routes.get("listeners") or {}
    https = listeners.get(routes.get("rules_listener", "")) or {}
    http = listeners.get("http") or {}
    if https.get("protocol") != "HTTPS" or https.get("port") != 443:
        problems.append(f"routes.json rules listener {routes.get('rules_listener')!r} is {https or 'missing'}; "
                        "the rules must be on HTTPS 443")
    if not CURRENT_TLS_POLICY.match(str(https.get("ssl_policy", ""))):
        problems.append(f"routes.json HTTPS ssl_policy {https.get('ssl_policy')!r} is not a current TLS policy "
                        "(use ELBSecurityPolicy-TLS13-1-2-2021-06 or newer)")
    if http.get("redirect_to") != routes.get("rules_listener") or http.get("port") != 80:
        problems.append(f"routes.json http listener {http or 'missing'} must be port 80 with redirect_to "
                        f"{routes.get('rules_listener')!r}")
    alb = {(t, n): b for t, n, b in blocks(infra.merged(f"{MODULES_DIR}/alb"), "resource")}
    lis_https = alb.get(("aws_lb_listener", "https")) or {}
    lis_http = alb.get(("aws_lb_listener", "http")) or {}
    if not lis_https:
        problems.append("modules/alb has no aws_lb_listener.https")
    else:
        if "count" in lis_https:
            problems.append("modules/alb aws_lb_listener.https has a count: HTTPS must always exist")
        if "https.protocol" not in str(lis_https.get("protocol")) and lis_https.get("protocol") != "HTTPS":
            problems.append(f"modules/alb HTTPS listener protocol is {lis_https.get('protocol')!r}")
        pol = str(lis_https.get("ssl_policy", ""))
        if "ssl_policy" not in pol and not CURRENT_TLS_POLICY.match(pol):
            problems.append(f"modules/alb HTTPS listener ssl_policy is {pol or 'unset'}; take it from routes.json")
        if lis_https.get("certificate_arn") != "${var.certificate_arn}":
            problems.append("modules/alb HTTPS listener certificate_arn must be var.certificate_arn")
        act = first(lis_https.get("default_action")) or {}
        if act.get("type") != "fixed-response":
            problems.append(f"modules/alb HTTPS default action is {act.get('type')!r}; it must be the fixed 404 of routes.json")
    actions = [a for a in (lis_http.get("default_action") or [])] + [
        first(d.get("default_action", {}).get("content")) for d in (lis_http.get("dynamic") or []) if "default_action" in d]
    types = [(a or {}).get("type") for a in actions]
    redirect = first((next((a for a in actions if (a or {}).get("type") == "redirect"), None) or {}).get("redirect")) or {}
    if types != ["redirect"] or redirect.get("protocol") != "HTTPS" or redirect.get("status_code") != "HTTP_301":
        problems.append(f"modules/alb port 80 listener default actions {types}; it must only redirect (301) to HTTPS")
    for name in ("this", "unauthenticated"):
        rule = alb.get(("aws_lb_listener_rule", name)) or {}
        if rule and "aws_lb_listener.https" not in str(rule.get("listener_arn")):
            problems.append(f"modules/alb listener rule {name!r} is on {rule.get('listener_arn')}, not the HTTPS listener")
    fwd = alb.get(("aws_lb_listener_rule", "this")) or {}
    dyn = {k: v for d in (fwd.get("dynamic") or []) for k, v in d.items()}
    header = json.dumps(dyn.get("condition") or {})
    if "http_header" not in header or "edge_secret_values" not in header or "edge_auth" not in header:
        problems.append("modules/alb forward rules have no http_header condition on the edge secret for edge_auth routes")
    unauth = alb.get(("aws_lb_listener_rule", "unauthenticated")) or {}
    if not unauth or "+ 500" not in str(unauth.get("priority")).replace("+500", "+ 500"):
        problems.append("modules/alb has no fixed-response 401 rule at priority + 500 for edge_auth routes")
    # Security groups: clients reach the listener ports only; tasks only from the ALB.
    sg = {n: b for t, n, b in blocks(infra.merged(f"{MODULES_DIR}/security-groups"), "resource") if t == "aws_security_group"}
    comp = named(infra.merged(f"{COMPONENTS_DIR}/30-security-groups"), "module")
    call = next(iter(comp.values()), {})
    if "alb_listener_ports" not in call or "routes.listeners" not in infra.dir_text(f"{COMPONENTS_DIR}/30-security-groups"):
        problems.append("30-security-groups does not derive alb_listener_ports from routes.json listeners")
    for name, body in sg.items():
        for ing in body.get("ingress") or []:
            cidrs = ing.get("cidr_blocks") or []
            if name != "alb" and any("0.0.0.0/0" in str(c) or "alb_ingress_cidrs" in str(c) for c in cidrs):
                problems.append(f"security group {name}: ingress {ing.get('from_port')}-{ing.get('to_port')} from {cidrs}; "
                                "only the ALB faces clients")
        for d in body.get("dynamic") or []:
            ing = first((d.get("ingress") or {}).get("content")) or {}
            if name == "alb" and "alb_listener_ports" not in str((d.get("ingress") or {}).get("for_each")):
                problems.append("security group alb: client ingress is not limited to the listener ports")
            if name == "ecs" and (ing.get("cidr_blocks") or "aws_security_group.alb.id" not in str(ing.get("security_groups"))):
                problems.append("security group ecs: container-port ingress from "
                                f"{ing.get('cidr_blocks') or ing.get('security_groups')}; "
                                "it must come from the ALB's security group only")
    return problems


@preflight
def check_otlp_receiver_reachable(infra: Infra) -> list[str]:
    """Tempo's OTLP/HTTP receiver listens on 0.0.0.0 at the tempo-otlp target group port.

    Since 2.x the receivers default to localhost:4318 (backend-api.md), which the ALB cannot
    reach; /v1/traces goes to the tempo-otlp target group (2026-01-15 15:00).
    """
    problems = []
    tg = (infra.routes.get("target_groups") or {}).get("tempo-otlp")
    if not tg:
        return ["routes.json has no tempo-otlp target group for /v1/traces"]
    ep = dig(infra.config("tempo"), ("distributor", "receivers", "otlp", "protocols", "http", "endpoint"))
    if ep != f"0.0.0.0:{tg['port']}":
        problems.append(f"tempo: OTLP http receiver endpoint is {ep!r}; it must be 0.0.0.0:{tg['port']}")
    rule = _first_rule(infra.routes.get("rules") or [], "/v1/traces")
    if rule is None or rule.get("target_group") != "tempo-otlp":
        got = f"rule {rule.get('name')} sends it to {rule.get('target_group')}" if rule else "no rule forwards it"
        problems.append(f"routes.json: /v1/traces must go to the tempo-otlp target group (port {tg['port']}); {got}, "
                        "whose port has no OTLP receiver (2026-01-15 15:00)")
    return problems
