"""Cloud Map: the private namespace the services find each other in (e.g. Grafana → Mimir).

Snapshot keys: cloudmap.namespace, cloudmap.services {svc: {"service", "instances", "health"} | None}.
"""
from __future__ import annotations

from . import Finding, Snapshot
from .discovery import AwsSettings, Fetcher, describe_error, match_name


def fetch(f: Fetcher) -> None:
    s, sd = f.settings, f.clients["servicediscovery"]
    if not s.cloudmap_namespace:
        f.snapshot.fail("cloudmap", f"no Cloud Map namespace: {s.hints['cloudmap_namespace']}")
        return
    namespaces = [n for p in sd.get_paginator("list_namespaces").paginate() for n in p["Namespaces"]]
    ns = next((n for n in namespaces if n["Name"] == s.cloudmap_namespace), None)
    if ns is None:
        f.snapshot.fail("cloudmap", f"Cloud Map namespace {s.cloudmap_namespace} not found in {f.region} "
                                    f"(found: {sorted(n['Name'] for n in namespaces) or 'none'})")
        return
    f.snapshot.put("cloudmap.namespace", ns)
    services = [x for p in sd.get_paginator("list_services").paginate(
        Filters=[{"Name": "NAMESPACE_ID", "Values": [ns["Id"]], "Condition": "EQ"}]) for x in p["Services"]]
    by_name = {x["Name"]: x for x in services}

    def one(svc):
        name = match_name(svc, by_name)
        if not name:
            return svc, None
        service = by_name[name]
        try:
            instances = [i for p in sd.get_paginator("list_instances").paginate(ServiceId=service["Id"]) for i in p["Instances"]]
        except Exception as e:  # noqa: BLE001
            return svc, {"service": service, "error": describe_error(e, f"listing instances of {name}")}
        try:
            health = sd.get_instances_health_status(ServiceId=service["Id"]).get("Status", {}) if instances else {}
        except Exception:  # noqa: BLE001 - services without a health config have no status to read
            health = {}
        return svc, {"service": service, "instances": instances, "health": health}

    f.snapshot.put("cloudmap.services", dict(f.map(one, s.services)))


def check_services_have_healthy_instances(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Every service is registered with ≥ 1 instance not reported UNHEALTHY (ECS registers
    running tasks; no health config means Cloud Map reports no status, which counts as healthy)."""
    ns = snap.need("cloudmap.namespace")
    services = snap.need("cloudmap.services")
    findings = []
    for svc in s.services:
        entry = services.get(svc)
        if entry is None:
            findings.append(Finding(f"Cloud Map {ns['Name']}/{svc}", "service not registered in the namespace"))
            continue
        res = f"Cloud Map {ns['Name']}/{entry['service']['Name']}"
        if "error" in entry:
            findings.append(Finding(res, entry["error"]))
            continue
        healthy = [i for i in entry["instances"] if entry["health"].get(i["Id"], "HEALTHY") != "UNHEALTHY"]
        if not healthy:
            findings.append(Finding(res, f"{len(entry['instances'])} instances, none healthy "
                                         "(other services cannot resolve it)"))
    return findings
