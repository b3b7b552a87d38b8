"""Cloud Map: the private namespace the services find each other in (e.g. Grafana → Mimir).

The Cloud Map service of each ECS service is the one its `serviceRegistries` names (not a
namespace found by name, which could be another VPC's); its namespace must be the stack's.
Health is read for every instance (paginated) and any API error is that service's finding,
never "healthy".

Snapshot keys: cloudmap.services {svc: {"service", "namespace", "instances", "health"} |
{"error"} | None}.
"""

from __future__ import annotations

from .settings import AwsSettings
from .snapshot import Finding, Snapshot, aws_check


def fetch(f) -> None:
    """Runs after ecs.fetch (same area thread): it reads the services' registries."""
    sd = f.clients["servicediscovery"]
    services = f.snapshot.get("ecs.services")
    if services is None:
        f.snapshot.fail(
            "cloudmap",
            f.snapshot.errors.get("ecs", "the ECS services could not be read")
            + " (the Cloud Map services are those the ECS services' registries name)",
        )
        return
    namespaces: dict[str, dict] = {}

    def namespace(ns_id: str) -> dict:
        if ns_id not in namespaces:
            namespaces[ns_id] = sd.get_namespace(Id=ns_id)["Namespace"]
        return namespaces[ns_id]

    def one(svc):
        data = services.get(svc)
        if data is None:
            return svc, None
        registries = data.get("serviceRegistries") or []
        if not registries:
            return svc, {
                "error": f"ECS service {data['serviceName']} has no serviceRegistries: its tasks never register in Cloud Map"
            }
        service_id = registries[0]["registryArn"].rsplit("/", 1)[-1]
        try:
            service = sd.get_service(Id=service_id)["Service"]
            ns = namespace(service["NamespaceId"])
            instances = [i for p in sd.get_paginator("list_instances").paginate(ServiceId=service_id) for i in p["Instances"]]
            health: dict[str, str] = {}
            if instances and (service.get("HealthCheckCustomConfig") is not None or service.get("HealthCheckConfig")):
                token = None
                while True:  # GetInstancesHealthStatus has no botocore paginator
                    page = sd.get_instances_health_status(ServiceId=service_id, **({"NextToken": token} if token else {}))
                    health.update(page.get("Status", {}))
                    token = page.get("NextToken")
                    if not token:
                        break
        except Exception as e:  # noqa: BLE001 - AccessDenied or throttling is this service's problem, not health
            return svc, {"error": f.describe(e, f"reading Cloud Map service {service_id} of ECS service {data['serviceName']}")}
        return svc, {"service": service, "namespace": ns, "instances": instances, "health": health}

    f.snapshot.put("cloudmap.services", dict(f.map(one, f.settings.services)))


def find_services_have_healthy_instances(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Every ECS service registers (through its serviceRegistries) in the stack's namespace
    with ≥ 1 instance Cloud Map reports HEALTHY (or, without a health config, registered)."""
    services = snap.need("cloudmap.services")
    findings = []
    for svc in s.services:
        entry = services.get(svc)
        if entry is None:
            continue  # no ECS service: the ECS checks report it
        if "error" in entry:
            findings.append(Finding(f"Cloud Map service of {svc}", entry["error"]))
            continue
        ns = entry["namespace"]["Name"]
        res = f"Cloud Map {ns}/{entry['service']['Name']}"
        if s.cloudmap_namespace and ns != s.cloudmap_namespace:
            findings.append(
                Finding(
                    res,
                    f"in namespace {ns}, expected {s.cloudmap_namespace} (cloudmap_namespace): "
                    "other services resolve names there",
                )
            )
        healthy = [
            i
            for i in entry["instances"]
            if entry["health"].get(i["Id"], "HEALTHY" if not entry["health"] else "UNKNOWN") == "HEALTHY"
        ]
        if not healthy:
            states = ", ".join(f"{i['Id']}={entry['health'].get(i['Id'], '?')}" for i in entry["instances"])
            findings.append(
                Finding(
                    res,
                    f"{len(entry['instances'])} instances, none healthy{f' ({states})' if states else ''} "
                    "(other services cannot resolve it)",
                )
            )
    return findings


services_have_healthy_instances = aws_check("aws.cloudmap.services_have_healthy_instances", find_services_have_healthy_instances)
