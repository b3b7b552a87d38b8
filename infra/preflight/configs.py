"""The services' own configs against their task definitions: every ${VAR} a config uses is set,
one tenant everywhere, multitenancy on, no region/bucket/account/IP literal anywhere, only keys the
pinned version accepts, a local runtime config, no HTTP path prefix, and Grafana's datasources and
login."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from .tree import BACKENDS, HERE, SERVICES, Infra, dig, parse_yaml, preflight, strip_comments

KNOWN_KEYS_DIR = HERE / "known_keys"

# Multitenancy switch of each backend (backend-api.md: defaults differ per backend).
TENANCY_KEYS = {
    "mimir": ("multitenancy_enabled",),
    "loki": ("auth_enabled",),
    "tempo": ("multitenancy_enabled",),
    "pyroscope": ("multitenancy_enabled",),
}

GRAFANA_DATASOURCES = "provisioning/datasources/datasources.yaml"
DATASOURCE_UIDS = {
    "mimir": "prometheus",
    "loki": "loki",
    "tempo": "tempo",
    "pyroscope": "grafana-pyroscope-datasource",
}

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\}")
_ALLOY_ENV = re.compile(r"""(?:sys\.env|env)\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)""")
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,2})?(?![\d.])")
_ACCOUNT_ID = re.compile(r"(?<![\d])\d{12}(?![\d])")


@preflight
def check_config_env_vars_set_in_task_definition(infra: Infra) -> list[str]:
    """Every ${VAR} (or Alloy sys.env("VAR")) a config uses is set in that service's task
    definition (modules/ecs/locals.tf: common_env, service_env, service_secrets).

    2026-01-15 18:00 (MEMCACHED_ENDPOINT wired in by hand) and 2026-01-16 02:00
    (PYROSCOPE_STORAGE_PREFIX used by the config before any task definition set it): with
    -config.expand-env an unset variable silently becomes "".
    """
    problems = []
    for svc in SERVICES:
        env = infra.task_env(svc)
        for name, raw in infra.config_files(svc).items():
            text = strip_comments(raw, name)
            refs = {m.group(1) for m in _ENV_REF.finditer(text) if not m.group(2)}
            refs |= set(_ALLOY_ENV.findall(text))
            for var in sorted(refs - set(env)):
                problems.append(
                    f"{svc}: {name} uses ${{{var}}} but the {svc} task definition does not set {var} "
                    f"(add it to service_env.{svc} in infra/terraform/modules/ecs/locals.tf)"
                )
    return problems


@preflight
def check_tenant_consistent(infra: Infra) -> list[str]:
    """One tenant everywhere: tfvars tenant_id -> LGTM_TENANT_ID -> Grafana datasources,
    Alloy and Tempo's remote write; no literal tenant strings.

    2026-01-15 16:00: Alloy still sent `aws-rag-cloudwatch`/`aws-rag-ec2` and the Pyroscope
    datasource sent no tenant at all.
    """
    problems = []
    tenant = infra.tfvars.get("tenant_id")
    if not tenant:
        problems.append("common.tfvars has no tenant_id")
    common = (infra.ecs_locals.get("common_env") or {})
    if common.get("LGTM_TENANT_ID") != "${var.tenant_id}":
        problems.append(
            f"modules/ecs/locals.tf common_env.LGTM_TENANT_ID is {common.get('LGTM_TENANT_ID')!r}, not ${{var.tenant_id}}"
        )
    # Grafana datasources
    ds_doc = parse_yaml(infra.text(f"{infra.image_dir('grafana')}/{GRAFANA_DATASOURCES}")) or {}
    for ds in ds_doc.get("datasources", []) or []:
        jd, sj = ds.get("jsonData") or {}, ds.get("secureJsonData") or {}
        headers = {jd.get(k): sj.get(k.replace("Name", "Value")) for k in jd if re.fullmatch(r"httpHeaderName\d+", k)}
        value = headers.get("X-Scope-OrgID")
        if value is None:
            problems.append(f"grafana datasource {ds.get('name')!r} sends no X-Scope-OrgID header")
        elif value != "${LGTM_TENANT_ID}":
            problems.append(f"grafana datasource {ds.get('name')!r} sends tenant {value!r}, not ${{LGTM_TENANT_ID}}")
    # Alloy: every tenant must come from LGTM_TENANT_ID
    alloy = infra.config_text("alloy")
    for m in re.finditer(r'"X-Scope-OrgID"\s*=\s*([^,\n}]+)|tenant_id\s*=\s*([^\n]+)', alloy):
        expr = (m.group(1) or m.group(2)).strip()
        if expr != 'sys.env("LGTM_TENANT_ID")':
            problems.append(f"alloy: tenant set to {expr} instead of sys.env(\"LGTM_TENANT_ID\")")
    if "X-Scope-OrgID" not in alloy and "tenant_id" not in alloy:
        problems.append("alloy: config sends no tenant at all")
    # Tempo's metrics-generator remote write
    tempo_storage = dig(infra.config("tempo"), ("metrics_generator", "storage")) or {}
    if tempo_storage.get("remote_write_add_org_id_header") is False:
        problems.append("tempo: metrics_generator remote_write_add_org_id_header is false; "
                        "span metrics would reach Mimir without a tenant")
    for rw in tempo_storage.get("remote_write") or []:
        org = (rw.get("headers") or {}).get("X-Scope-OrgID")
        if org is not None and org != "${LGTM_TENANT_ID}":
            problems.append(f"tempo: metrics_generator remote_write X-Scope-OrgID is {org!r}, not ${{LGTM_TENANT_ID}}")
    # No literal tenant anywhere in the configs
    if tenant:
        for svc in SERVICES:
            for name, text in infra.config_files(svc).items():
                if tenant in text:
                    problems.append(f"{svc}: {name} hard-codes the tenant {tenant!r}; use ${{LGTM_TENANT_ID}}")
    return problems


@preflight
def check_multitenancy_enabled(infra: Infra) -> list[str]:
    """Multitenancy on in every backend, so X-Scope-OrgID decides where data lands.

    2026-01-16 02:00: Pyroscope had no multitenancy and wrote to `anonymous/` in the bucket.
    """
    problems = []
    for svc, path in TENANCY_KEYS.items():
        if dig(infra.config(svc), path) is not True:
            problems.append(f"{svc}: {'.'.join(path)} must be true (otherwise data lands under a default tenant)")
    return problems


def _scan_files(infra: Infra) -> dict[str, str]:
    files: dict[str, str] = {}
    for pattern in ("infra/terraform/**/*.tf", "infra/images/**/*"):
        for p in sorted(infra.root.glob(pattern)):
            if p.is_file() and ".terraform" not in p.parts:
                files[str(p.relative_to(infra.root))] = p.read_text(encoding="utf-8")
    for name, text in infra.workflows().items():
        files[f".github/workflows/{name}"] = text
    return files


@preflight
def check_no_hardcoded_region_bucket_ip(infra: Infra) -> list[str]:
    """No region, bucket name, account id or IP address literal outside common.tfvars.

    2026-01-15 18:00 (bucket `sys-lgtm-s3`, remote write to `10.130.30.62:9009` in the
    Tempo config) and 19:30 (`ap-northeast-2` in the Mimir/Loki configs).
    """
    problems = []
    tv = infra.tfvars
    literals = {
        "region": tv.get("aws_region"),
        "data bucket": tv.get("data_bucket"),
        "state bucket": tv.get("state_bucket"),
        "bootstrap bucket": tv.get("bootstrap_state_bucket"),
        "lock table": tv.get("state_lock_table"),
    }
    allowed_ips = {"0.0.0.0", "127.0.0.1"}
    for rel, raw in _scan_files(infra).items():
        text = strip_comments(raw, rel)
        for what, value in literals.items():
            if value and value in text:
                problems.append(f"{rel}: hard-coded {what} {value!r} (take it from common.tfvars / the environment)")
        for m in _IPV4.finditer(text):
            ip = m.group(1)
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                continue
            if ip not in allowed_ips:
                problems.append(f"{rel}: hard-coded IP address {m.group(0)}")
        if rel.endswith(".tf"):
            for m in _ACCOUNT_ID.finditer(text):
                problems.append(f"{rel}: hard-coded AWS account id {m.group(0)}")
    return problems


def _minor(version: str) -> str:
    m = re.match(r"v?(\d+)\.(\d+)", str(version))
    return f"{m.group(1)}.{m.group(2)}" if m else str(version)


def known_keys_schema(service: str, version: str) -> dict | None:
    p = KNOWN_KEYS_DIR / f"{service}-{_minor(version)}.json"
    return json.loads(p.read_text()) if p.exists() else None


def unknown_keys(data: Any, node: Any, path: str = "") -> list[str]:
    """Dotted paths in ``data`` that the known-key tree ``node`` does not allow."""
    if node == "*" or data is None:
        return []
    if isinstance(node, dict) and "[]" in node:
        if not isinstance(data, list):
            return []
        out = []
        for i, item in enumerate(data):
            out += unknown_keys(item, node["[]"], f"{path}[{i}]")
        return out
    if isinstance(node, dict):
        if not isinstance(data, dict):
            return []
        out = []
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in node:
                out.append(sub)
            else:
                out += unknown_keys(value, node[key], sub)
        return out
    return []  # scalar leaf


@preflight
def check_config_keys_known_for_version(infra: Infra) -> list[str]:
    """Backend configs use only keys the pinned version accepts (known-key schemas in
    infra/preflight/known_keys/, taken from each release's configuration reference).

    2026-01-16 03:30 "field prefix not found in type phlare.StorageConfig" and 04:00
    "field prefix not found in type s3.Config": Pyroscope rejects storage.prefix and
    storage.s3.prefix at startup; its key is storage.storage_prefix.
    """
    problems = []
    versions = infra.tfvars.get("image_versions") or {}
    for svc in BACKENDS:
        version = versions.get(svc)
        if not version:
            problems.append(f"image_versions.{svc} missing in common.tfvars")
            continue
        schema = known_keys_schema(svc, version)
        if schema is None:
            problems.append(
                f"{svc} {version}: no known-key schema infra/preflight/known_keys/{svc}-{_minor(version)}.json "
                "(copy the previous one and update it from that release's configuration reference)"
            )
            continue
        for key in unknown_keys(infra.config(svc), schema["keys"]):
            reason = schema.get("rejected", {}).get(re.sub(r"\[\d+\]", "", key))
            problems.append(
                f"{svc} {version}: unknown config key {key}" + (f": {reason}" if reason else
                f" (not in {svc}-{_minor(version)}.json; {svc} refuses unknown keys at startup)")
            )
    return problems


@preflight
def check_runtime_config_file_is_local_path(infra: Infra) -> list[str]:
    """Mimir's runtime_config.file is a local file shipped in the image, never a URI.

    2026-01-16 02:45/03:00: `file: s3://.../runtime-config.yaml` -> "failed to load runtime
    config ... no such file or directory", Mimir FAILED.
    """
    problems = []
    for svc in ("mimir", "loki", "pyroscope"):
        files = dig(infra.config(svc), ("runtime_config", "file"))
        if not files:
            continue
        dockerfile = infra.text(f"{infra.image_dir(svc)}/Dockerfile")
        for f in str(files).split(","):
            f = f.strip()
            if "://" in f or f.startswith("s3:"):
                problems.append(f"{svc}: runtime_config.file {f!r} is a URI; only local paths are read (os.ReadFile)")
            elif not re.search(rf"(?m)^COPY\s+\S+\s+{re.escape(f)}\s*$", dockerfile):
                problems.append(f"{svc}: runtime_config.file {f!r} is not COPY'd into the image by its Dockerfile")
    return problems


@preflight
def check_no_http_path_prefix(infra: Infra) -> list[str]:
    """No server.http_path_prefix in any backend: strip prefixes at the ALB instead.

    2026-01-16 01:30 -> 05:00: with http_path_prefix, /ready moved under the prefix, ALB
    health checks got 404/ResponseCodeMismatch, and Pyroscope's internal
    scheduler/querier calls failed with 404.
    """
    problems = []
    for svc in BACKENDS:
        cfg = infra.config(svc)
        if dig(cfg, ("server", "http_path_prefix")):
            problems.append(f"{svc}: server.http_path_prefix is set; it breaks /ready and internal calls "
                            "(strip the prefix with the ALB url-rewrite transform instead)")
    if dig(infra.config("tempo"), ("http_api_prefix",)):
        problems.append("tempo: http_api_prefix is set; the ALB strips /tempo already")
    return problems


@preflight
def check_grafana_datasources_and_auth(infra: Infra) -> list[str]:
    """Grafana: fixed datasource uids pointing at the backends' Cloud Map names and ports
    (not the ALB), anonymous access off, admin password from a secret.

    2026-01-16 01:00: Grafana came up with admin/admin; datasources went through the ALB.
    """
    problems = []
    doc = parse_yaml(infra.text(f"{infra.image_dir('grafana')}/{GRAFANA_DATASOURCES}")) or {}
    by_uid = {ds.get("uid"): ds for ds in doc.get("datasources", []) or []}
    services = infra.service_config()
    for uid, dtype in DATASOURCE_UIDS.items():
        ds = by_uid.get(uid)
        if ds is None:
            problems.append(f"grafana: no datasource with uid {uid!r}")
            continue
        if ds.get("type") != dtype:
            problems.append(f"grafana: datasource {uid!r} has type {ds.get('type')!r}, expected {dtype!r}")
        port = (services.get(uid) or {}).get("container_port")
        want = f"http://{uid}.${{CLOUDMAP_NAMESPACE}}:{port}"
        if not str(ds.get("url", "")).startswith(want):
            problems.append(f"grafana: datasource {uid!r} url {ds.get('url')!r} must start with {want} "
                            "(Cloud Map name, not the ALB)")
    ini = infra.text(f"{infra.image_dir('grafana')}/grafana.ini")
    anon = re.search(r"(?ms)^\[auth\.anonymous\][^\[]*?^\s*enabled\s*=\s*(\w+)", ini)
    env = infra.task_env("grafana")
    if (anon and anon.group(1).lower() != "false") or str(env.get("GF_AUTH_ANONYMOUS_ENABLED", "false")).lower() != "false":
        problems.append("grafana: anonymous access must be disabled")
    secrets = ((infra.ecs_locals.get("service_secrets") or {}).get("grafana") or {})
    if "GF_SECURITY_ADMIN_PASSWORD" not in secrets and "GF_SECURITY_ADMIN_PASSWORD__FILE" not in env:
        problems.append("grafana: admin password must come from a secret (service_secrets.grafana.GF_SECURITY_ADMIN_PASSWORD)")
    if (re.search(r"(?m)^\s*admin_password\s*=", ini)
            or "GF_SECURITY_ADMIN_PASSWORD" in ((infra.ecs_locals.get("service_env") or {}).get("grafana") or {})):
        problems.append("grafana: admin password set in plain config/environment")
    return problems
