"""The data in S3: storage prefixes valid for each backend and wired from tfvars through the
task definitions to the key each backend reads, S3 endpoints from the region variable, and bucket
versioning (data bucket off, state bucket on)."""

from __future__ import annotations

import re
from typing import Any

from .tree import BACKENDS, COMPONENTS_DIR, MODULES_DIR, Infra, blocks, dig, first, preflight

# Storage-prefix rules of each backend (backend-api.md, upstream validation code).
PREFIX_RULES = {
    "mimir": (re.compile(r"^[A-Za-z0-9]+$"), "Mimir allows only [A-Za-z0-9] (no '-', no '/')"),
    "loki": (re.compile(r"^[A-Za-z0-9-]+$"), "Loki allows only [A-Za-z0-9-]"),
    "pyroscope": (
        re.compile(r"^(?:[A-Za-z_.-][A-Za-z0-9_.-]*)(?:/[A-Za-z_.-][A-Za-z0-9_.-]*)*/?$"),
        "Pyroscope allows segments of [A-Za-z_.-] then digits, no leading '/' or empty segment",
    ),
    "tempo": (re.compile(r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$"), "Tempo prefix must be a plain relative path"),
}

# Where each backend's config must use its storage prefix variable.
PREFIX_KEYS = {
    "mimir": ("blocks_storage", "storage_prefix"),
    "loki": ("storage_config", "object_store", "storage_prefix"),
    "tempo": ("storage", "trace", "s3", "prefix"),
    "pyroscope": ("storage", "storage_prefix"),
}


@preflight
def check_storage_prefixes_consistent(infra: Infra) -> list[str]:
    """storage_prefixes in tfvars are valid for each backend, reach the task definitions as
    <SVC>_STORAGE_PREFIX, and each config uses that variable at the backend's real key.

    2026-01-16 02:00 (no pyroscope/ prefix in S3), 02:30 (prefixes hard-coded in the
    task definitions), 03:30/04:00 (Pyroscope prefix at the wrong key).
    """
    problems = []
    prefixes = infra.tfvars.get("storage_prefixes") or {}
    for svc in BACKENDS:
        value = prefixes.get(svc)
        if not value:
            problems.append(f"storage_prefixes.{svc} missing in common.tfvars")
            continue
        rx, rule = PREFIX_RULES[svc]
        if not rx.match(value):
            problems.append(f"storage_prefixes.{svc} = {value!r} is invalid: {rule}")
        var = f"{svc.upper()}_STORAGE_PREFIX"
        env_value = ((infra.ecs_locals.get("service_env") or {}).get(svc) or {}).get(var)
        if env_value != f"${{var.storage_prefixes.{svc}}}":
            problems.append(
                f"{svc}: task definition sets {var}={env_value!r}; it must be ${{var.storage_prefixes.{svc}}}"
            )
        used = dig(infra.config(svc), PREFIX_KEYS[svc])
        if used is None:
            problems.append(f"{svc}: config has no {'.'.join(PREFIX_KEYS[svc])} (objects would land at the bucket root)")
        elif f"${{{var}}}" not in str(used):
            problems.append(f"{svc}: {'.'.join(PREFIX_KEYS[svc])} is {used!r}, not ${{{var}}}")
    return problems


@preflight
def check_s3_endpoints_use_region_variable(infra: Infra) -> list[str]:
    """Every S3 endpoint is exactly s3.${AWS_REGION}.amazonaws.com.

    2026-01-15 18:00 "Critical Fix": Tempo had `s3.northeast-2.amazonaws.com` (typo, no
    `ap-`) and could not reach its bucket.
    """
    problems = []
    want = "s3.${AWS_REGION}.amazonaws.com"
    for svc in BACKENDS:
        for name, text in infra.config_files(svc).items():
            for m in re.finditer(r"(?m)^\s*endpoint:\s*(\S+)", text):
                value = m.group(1).strip("'\"")
                if ("amazonaws" in value or value.startswith("s3")) and value != want:
                    problems.append(f"{svc}: {name} S3 endpoint {value!r} must be {want!r}")
            for m in re.finditer(r"s3[.-][A-Za-z0-9${}_.-]*amazonaws\.com", text):
                if m.group(0) != want:
                    problems.append(f"{svc}: {name} S3 endpoint {m.group(0)!r} must be {want!r}")
        cfg = infra.config(svc)
        if not any(want in str(v) for v in _walk_values(cfg)):
            problems.append(f"{svc}: no S3 endpoint {want} in the config")
    return sorted(set(problems))


def _walk_values(data: Any):
    if isinstance(data, dict):
        for v in data.values():
            yield from _walk_values(v)
    elif isinstance(data, list):
        for v in data:
            yield from _walk_values(v)
    else:
        yield data


@preflight
def check_bucket_versioning(infra: Infra) -> list[str]:
    """Data bucket versioning OFF, state bucket versioning ON.

    2026-01-16 05:30: destroy failed with BucketNotEmpty on the versioned data bucket;
    2026-01-15 10:00: the state bucket (bootstrap) must keep versions of the state.
    """
    problems = []

    def statuses(rel: str) -> list[str]:
        out = []
        for rtype, _name, body in blocks(infra.merged(rel), "resource"):
            if rtype == "aws_s3_bucket_versioning":
                out.append(str((first(body.get("versioning_configuration")) or {}).get("status")))
        return out

    data = statuses(f"{MODULES_DIR}/s3")
    if not data:
        problems.append("modules/s3 has no aws_s3_bucket_versioning for the data bucket (set status = \"Disabled\")")
    for s in data:
        if s == "Enabled":
            problems.append("modules/s3 data bucket versioning is Enabled; it must be Disabled (BucketNotEmpty on destroy)")
    state = statuses(f"{COMPONENTS_DIR}/00-bootstrap")
    if "Enabled" not in state:
        problems.append(f"00-bootstrap state bucket versioning is {state or 'not set'}; it must be Enabled")
    return problems
