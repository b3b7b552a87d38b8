"""ECS on Fargate: valid task sizes, the services' health-check grace period and circuit
breaker, connection draining against the containers' stopTimeout, and the task definitions'
memcached endpoint (from 35-elasticache, never a literal host)."""

from __future__ import annotations

import json
import re

from .tree import COMPONENTS_DIR, HERE, MODULES_DIR, SERVICES, Infra, blocks, first, named, preflight, strip_comments

# The one Fargate table (cpu/memory, stopTimeout, grace-period floor), shared with the AWS
# checks (lgtm_smoke/aws/fargate.py).
FARGATE = json.loads((HERE.parents[1] / "lgtm_smoke" / "data" / "fargate.json").read_text())


@preflight
def check_fargate_cpu_memory_valid(infra: Infra) -> list[str]:
    """Only valid Fargate cpu/memory pairs in service_config.

    2026-01-15 24:00: "ClientException: No Fargate configuration exists for given values:
    512 CPU, 1536 memory" (and 256/768) after a blanket +50% memory change.
    """
    problems = []
    table = FARGATE["cpu_memory"]
    services = infra.service_config()
    for svc in SERVICES:
        if svc not in services:
            problems.append(f"service_config has no entry for {svc!r} (common.tfvars)")
    for svc, cfg in services.items():
        cpu, mem = cfg.get("cpu"), cfg.get("memory")
        row = table.get(str(cpu))
        if row is None:
            problems.append(f"{svc}: cpu {cpu} is not a Fargate CPU value ({', '.join(table)})")
            continue
        allowed = row.get("values") or list(range(row["min"], row["max"] + 1, row["step"]))
        if mem not in allowed:
            problems.append(
                f"{svc}: No Fargate configuration exists for {cpu} CPU, {mem} memory "
                f"(cpu {cpu} allows {allowed[0]}..{allowed[-1]}"
                + (f" in steps of {row['step']})" if "step" in row else f": {allowed})")
            )
    return problems


@preflight
def check_grace_period_long_enough(infra: Infra) -> list[str]:
    """Load-balanced ECS services have health_check_grace_period_seconds >= the floor in
    lgtm_smoke/data/fargate.json (60 s; the AWS check reads the same value).

    2026-01-16 04:15: grace period 0 -> ALB checks failed while Tempo/Pyroscope were
    still starting, ECS sent SIGTERM every ~5 minutes and the circuit breaker rolled back.
    """
    problems = []
    floor = FARGATE["min_health_check_grace_period_seconds"]
    grace = infra.tfvars.get("health_check_grace_period_seconds")
    if not isinstance(grace, (int, float)) or grace < floor:
        problems.append(f"common.tfvars health_check_grace_period_seconds = {grace!r}; it must be >= {floor} "
                        "(Tempo and Pyroscope take ~30-45 s to pass /ready)")
    ecs = infra.merged(f"{MODULES_DIR}/ecs")
    services = [b for t, n, b in blocks(ecs, "resource") if t == "aws_ecs_service"]
    if not services:
        problems.append("modules/ecs has no aws_ecs_service")
    for body in services:
        expr = body.get("health_check_grace_period_seconds")
        if expr is None:
            problems.append("modules/ecs aws_ecs_service sets no health_check_grace_period_seconds")
        elif isinstance(expr, (int, float)) and expr < floor:
            problems.append(f"modules/ecs aws_ecs_service health_check_grace_period_seconds = {expr}; it must be >= {floor}")
        elif isinstance(expr, str) and "var.health_check_grace_period_seconds" not in expr:
            problems.append(f"modules/ecs health_check_grace_period_seconds = {expr}; wire var.health_check_grace_period_seconds")
        if (not first(body.get("deployment_circuit_breaker"))
                or not first(body.get("deployment_circuit_breaker")).get("rollback")):
            problems.append("modules/ecs aws_ecs_service has no deployment_circuit_breaker with rollback = true")
    mod = infra.merged(f"{COMPONENTS_DIR}/60-ecs")
    call = named(mod, "module").get("ecs", {})
    if "health_check_grace_period_seconds" not in call:
        problems.append("60-ecs does not pass health_check_grace_period_seconds to the ecs module")
    return problems


@preflight
def check_deregistration_delay_le_stop_timeout(infra: Infra) -> list[str]:
    """ALB deregistration delay <= every container's stopTimeout (<= 120 on Fargate).

    2026-01-15 19:00: deregistration_delay was added to drain connections "equal to
    stopTimeout (120 s)"; a longer drain than stopTimeout kills tasks mid-request.
    """
    problems = []
    max_stop = FARGATE["max_stop_timeout"]
    stops = {}
    for svc, cfg in infra.service_config().items():
        stop = cfg.get("stop_timeout", 120)
        stops[svc] = stop
        if not isinstance(stop, int) or not 0 < stop <= max_stop:
            problems.append(f"{svc}: stop_timeout {stop!r} must be 1..{max_stop} seconds on Fargate")
    alb_vars = named(infra.merged(f"{MODULES_DIR}/alb"), "variable")
    default = (alb_vars.get("deregistration_delay") or {}).get("default")
    call = named(infra.merged(f"{COMPONENTS_DIR}/50-alb"), "module").get("alb", {})
    wired = call.get("deregistration_delay", default)
    if isinstance(wired, str):
        if "stop_timeout" not in wired:
            problems.append(f"50-alb deregistration_delay = {wired}; derive it from service_config stop_timeout")
    elif isinstance(wired, (int, float)):
        for svc, stop in stops.items():
            if isinstance(stop, int) and wired > stop:
                problems.append(f"deregistration_delay {wired} s > {svc} stop_timeout {stop} s")
    else:
        problems.append("50-alb passes no deregistration_delay and the alb module has no default")
    tg = [b for t, n, b in blocks(infra.merged(f"{MODULES_DIR}/alb"), "resource") if t == "aws_lb_target_group"]
    if not tg or any(b.get("deregistration_delay") != "${var.deregistration_delay}" for b in tg):
        problems.append("modules/alb target groups must set deregistration_delay = var.deregistration_delay")
    return problems


@preflight
def check_memcached_endpoint_from_elasticache(infra: Infra) -> list[str]:
    """Every task definition's MEMCACHED_ENDPOINT is var.memcached_endpoint, which 60-ecs
    takes from 35-elasticache's output; no memcached host or port is written anywhere.

    2026-01-15 18:00: MEMCACHED_ENDPOINT wired in by hand; a cluster replaced by Terraform
    gets a new endpoint and a literal host keeps pointing at the old one.
    """
    problems = []
    env = (infra.ecs_locals.get("service_env") or {})
    for svc, values in sorted(env.items()):
        v = (values or {}).get("MEMCACHED_ENDPOINT")
        if v is not None and v != "${var.memcached_endpoint}":
            problems.append(f"{svc}: task definition sets MEMCACHED_ENDPOINT={v!r}; it must be var.memcached_endpoint")
    call = named(infra.merged(f"{COMPONENTS_DIR}/60-ecs"), "module").get("ecs", {})
    if ("35-elasticache" not in infra.dir_text(f"{COMPONENTS_DIR}/60-ecs")
            or "outputs.memcached_endpoint" not in str(call.get("memcached_endpoint"))):
        problems.append("60-ecs does not pass memcached_endpoint from 35-elasticache's remote state")
    for svc in SERVICES:
        for name, text in infra.config_files(svc).items():
            for m in re.finditer(r"[\w.-]+\.cache\.amazonaws\.com(:\d+)?|[\w.-]*memcache[\w.-]*:\d{4,5}",
                                 strip_comments(text, name)):
                problems.append(f"{svc}: {name} hard-codes the memcached host {m.group(0)}; use ${{MEMCACHED_ENDPOINT}}")
    return problems
