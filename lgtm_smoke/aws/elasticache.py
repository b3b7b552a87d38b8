"""ElastiCache: the memcached cluster Mimir and Loki cache through (seed: memcached referenced
in the configs but never created).

Snapshot key: cache.cluster (describe_cache_clusters entry).
"""

from __future__ import annotations

from .errors import code_of
from .settings import AwsSettings
from .snapshot import Finding, Snapshot, aws_check

CACHE_CLIENTS = ("mimir", "loki")


def fetch(f) -> None:
    s = f.settings
    if not s.memcached_cluster:
        f.snapshot.fail("cache", f"no memcached cluster id: {s.hints['memcached_cluster']}")
        return
    try:
        resp = f.clients["elasticache"].describe_cache_clusters(CacheClusterId=s.memcached_cluster, ShowCacheNodeInfo=True)
    except Exception as e:  # noqa: BLE001
        if code_of(e) == "CacheClusterNotFound":
            f.snapshot.fail(
                "cache",
                f"ElastiCache cluster {s.memcached_cluster} not found in {f.region} (Mimir/Loki caches point at nothing)",
            )
        else:
            f.snapshot.fail("cache", f.describe(e, f"describing ElastiCache cluster {s.memcached_cluster}"))
        return
    f.snapshot.put("cache.cluster", resp["CacheClusters"][0])


def find_cluster_available(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    c = snap.need("cache.cluster")
    res, findings = f"ElastiCache cluster {s.memcached_cluster}", []
    if c.get("Engine") != "memcached":
        findings.append(Finding(res, f"engine {c.get('Engine')}, expected memcached"))
    if c.get("CacheClusterStatus") != "available":
        findings.append(Finding(res, f"status {c.get('CacheClusterStatus')}, expected available"))
    if s.memcached_nodes is not None and c.get("NumCacheNodes") != s.memcached_nodes:
        findings.append(
            Finding(res, f"{c.get('NumCacheNodes')} nodes, memcached_config.num_cache_nodes says {s.memcached_nodes}")
        )
    return findings


def find_task_definitions_carry_endpoint(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Mimir and Loki task definitions have MEMCACHED_ENDPOINT, and every task definition that
    sets it (Tempo too) points at this cluster. When AWS returns the configuration endpoint it
    must match; else the value must name the cluster id (memcached endpoints are
    <cluster-id>.<hash>.cfg.<region>.cache.amazonaws.com:11211)."""
    from .ecs import environment

    c = snap.need("cache.cluster")
    taskdefs = snap.need("ecs.taskdefs")
    address = (c.get("ConfigurationEndpoint") or {}).get("Address")
    findings = []
    for svc in s.services:
        td = taskdefs.get(svc)
        if isinstance(td, str):
            findings.append(Finding(f"ECS service {svc}", td))
            continue
        if td is None:
            if svc in CACHE_CLIENTS:
                findings.append(Finding(f"ECS service {svc}", "no task definition, cannot read MEMCACHED_ENDPOINT"))
            continue
        res = f"task definition {td.get('family')}:{td.get('revision')}"
        value = environment(td).get("MEMCACHED_ENDPOINT", "")
        if not value:
            if svc in CACHE_CLIENTS:
                findings.append(Finding(res, "no MEMCACHED_ENDPOINT environment variable (its caches point at nothing)"))
        elif address and address not in value:
            findings.append(Finding(res, f"MEMCACHED_ENDPOINT={value}, cluster endpoint is {address}"))
        elif not address and s.memcached_cluster not in value:
            findings.append(Finding(res, f"MEMCACHED_ENDPOINT={value} does not name cluster {s.memcached_cluster}"))
    return findings


cluster_available = aws_check("aws.elasticache.cluster_available", find_cluster_available)
task_definitions_carry_endpoint = aws_check(
    "aws.elasticache.task_definitions_carry_endpoint", find_task_definitions_carry_endpoint
)
