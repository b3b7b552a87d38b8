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


# The deploy verdict's series (lgtm_smoke/verdict/cloudwatch.py): what each service's rollback alarm watches.
SMOKE_METRIC = "FailedChecks"
SMOKE_SOURCE = "deploy"


def _alb_fronted_services(merged: dict) -> list[tuple[str, dict]]:
    """(name, body) of every aws_ecs_service with a load_balancer block (static or dynamic)."""
    return [(n, b) for t, n, b in blocks(merged, "resource") if t == "aws_ecs_service"
            and (b.get("load_balancer") or any("load_balancer" in d for d in b.get("dynamic") or []))]


def _alarm_refs(service: dict) -> list[str]:
    """The alarm names of a service's top-level `alarms` block, as written."""
    return [str(n) for a in service.get("alarms") or [] for n in a.get("alarm_names") or []]


def _named_alarm(ref: str) -> str | None:
    """`${aws_cloudwatch_metric_alarm.<name>[each.key].alarm_name}` -> <name>; anything else (another
    service's key, a literal name) -> None."""
    m = re.fullmatch(r"\$\{aws_cloudwatch_metric_alarm\.(\w+)\[each\.key\]\.alarm_name\}", ref)
    return m.group(1) if m else None


@preflight
def check_ecs_services_roll_back_on_smoke_alarm(infra: Infra) -> list[str]:
    """Every ALB-fronted ECS service (modules/ecs) has a top-level `alarms` block naming its own
    smoke alarm (`aws_cloudwatch_metric_alarm.<smoke>[each.key].alarm_name`, an alarm of the module
    on FailedChecks, the deploy verdict: smoke_alarm_watches_deploy_verdict holds the rest of it)
    with `enable = true` and `rollback = true`.

    Issue 20: tasks that start and pass the ALB's health checks can still be broken (a Loki that
    drops the tenant header, a Tempo whose OTLP receiver moved, a Mimir whose read path is broken:
    seed incidents S2, S4, S6, S10, S12), and the circuit breaker only sees health checks; without
    the alarm a red smoke verdict rolls nothing back and the broken revision stays in service.
    """
    problems = []
    merged = infra.merged(f"{MODULES_DIR}/ecs")
    smoke_alarms = {n for t, n, b in blocks(merged, "resource")
                    if t == "aws_cloudwatch_metric_alarm" and b.get("metric_name") == SMOKE_METRIC}
    services = _alb_fronted_services(merged)
    if not services:
        problems.append("modules/ecs has no ALB-fronted aws_ecs_service (load_balancer block)")
    for name, body in services:
        where = f"modules/ecs aws_ecs_service.{name}"
        block = first(body.get("alarms"))
        if not block:
            problems.append(f"{where} has no top-level `alarms` block: a red smoke verdict cannot roll it back "
                            "(alarm_names = [aws_cloudwatch_metric_alarm.smoke[each.key].alarm_name], enable, rollback)")
            continue
        for key in ("enable", "rollback"):
            if block.get(key) is not True:
                problems.append(f"{where} alarms {key} = {block.get(key)!r}; it must be true "
                                "(the smoke alarm must fail and roll back the deployment)")
        refs = _alarm_refs(body)
        own = [r for r in refs if _named_alarm(r) in smoke_alarms]
        if not own:
            problems.append(f"{where} alarms names {refs or 'no alarm'}; it must name the service's own smoke alarm "
                            "(aws_cloudwatch_metric_alarm.smoke[each.key].alarm_name)")
    return problems


@preflight
def check_smoke_alarm_watches_deploy_verdict(infra: Infra) -> list[str]:
    """Each alarm an ECS service rolls back on watches that service's deploy verdict and never treats
    missing data as breaching: `<smoke_metric_namespace>/FailedChecks` with dimensions exactly
    `{Service = each.key, Source = "deploy"}`, statistic Maximum, GreaterThanThreshold, threshold 0,
    `treat_missing_data = "notBreaching"`, one alarm per service (the service's own for_each).

    Issue 20: a run that could not check a service publishes nothing, and every minute between deploys
    has no data: with "breaching" or "missing" (AWS's default, INSUFFICIENT_DATA) a quiet gate would
    fail deployments, rolling back healthy ones or ending in a broken state again. The canary's series
    (Source = "canary") is not the deploy's: a deploy alarm on it would roll back a new revision for
    what the old one did. Maximum > 0: one failed check of a service is enough (each of S2, S4, S6,
    S10, S12 broke one check of one backend).
    """
    problems = []
    merged = infra.merged(f"{MODULES_DIR}/ecs")
    alarms = {n: b for t, n, b in blocks(merged, "resource") if t == "aws_cloudwatch_metric_alarm"}
    watched = sorted({a for _, b in _alb_fronted_services(merged) for r in _alarm_refs(b) if (a := _named_alarm(r)) in alarms})
    if not watched:
        problems.append("modules/ecs: no service names a smoke alarm (aws_cloudwatch_metric_alarm.<name>[each.key])")
    want = {
        "namespace": "${var.smoke_metric_namespace}",
        "metric_name": SMOKE_METRIC,
        "statistic": "Maximum",
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 0,
        "for_each": "${var.service_config}",
    }
    for name in watched:
        body = alarms[name]
        where = f"modules/ecs aws_cloudwatch_metric_alarm.{name}"
        missing_data = body.get("treat_missing_data", "missing")
        if missing_data != "notBreaching":
            problems.append(f"{where} treat_missing_data = {missing_data!r}"
                            + (" (not set: AWS's default)" if "treat_missing_data" not in body else "")
                            + '; it must be "notBreaching": missing data (a run that could not check) must never roll back')
        for key, value in want.items():
            if body.get(key) != value:
                problems.append(f"{where} {key} = {body.get(key)!r}; it must be {value!r} (the deploy verdict's series)")
        dims = body.get("dimensions")
        if dims != {"Service": "${each.key}", "Source": SMOKE_SOURCE}:
            problems.append(f"{where} dimensions = {dims!r}; it must be {{Service = each.key, Source = \"{SMOKE_SOURCE}\"}} "
                            "(the deploy gate's series, never the canary's)")
    return problems


@preflight
def check_no_steady_state_wait_with_rollback_alarm(infra: Infra) -> list[str]:
    """An ECS service with rollback alarms does not wait for steady state (`wait_for_steady_state =
    false`, the provider's default when unset).

    Issue 20: with true the apply returns only once the deployment is SUCCESSFUL, after the bake
    time, so the smoke gate runs once the alarm has stopped watching: its red verdict rolls
    nothing back (the deploy workflow waits for SUCCESSFUL or ROLLBACK_* itself).
    """
    problems = []
    for name, body in _alb_fronted_services(infra.merged(f"{MODULES_DIR}/ecs")):
        if any(a.get("rollback") for a in body.get("alarms") or []) and body.get("wait_for_steady_state") not in (False, None):
            problems.append(f"modules/ecs aws_ecs_service.{name} wait_for_steady_state = "
                            f"{body.get('wait_for_steady_state')!r}; it must be false with rollback alarms "
                            "(the apply would wait out the bake and the gate would run too late to roll back)")
    return problems
