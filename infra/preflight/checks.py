"""Preflight checks over infra/: each one stops a failure the seed logs (or an issue) hit.

Every check is an `lgtm_smoke.outcome.Check` with kind "preflight", id
``preflight.<failure>`` and the repository tree (`Infra`) as its context: it returns
evidence (what it looked at) or raises `CheckFailed` whose one-line cause names the first
thing to fix and whose evidence lines name the rest, each with where it is. The docstring of
each check cites the incident it prevents (the dates are the seed logs' headings).

Nothing here talks to AWS or the network: the inputs are the files under ``infra/``
(``terraform/``, ``images/``, ``routes.json``) and ``.github/workflows/``. Parsed files
are cached by content, so a copied-and-mutated tree only re-parses what changed.

    from infra.preflight import Infra, run_all
    outcomes = run_all(Infra("/path/to/repo"))   # {check name: Outcome}
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from lgtm_smoke.outcome import Check, CheckFailed, Outcome, Status, run_check

HERE = Path(__file__).resolve().parent
KNOWN_KEYS_DIR = HERE / "known_keys"
# The one Fargate table (cpu/memory, stopTimeout, grace-period floor), shared with the AWS
# checks (lgtm_smoke/aws/fargate.py).
FARGATE = json.loads((HERE.parents[1] / "lgtm_smoke" / "data" / "fargate.json").read_text())

SERVICES = ("grafana", "mimir", "loki", "tempo", "pyroscope", "alloy")
BACKENDS = ("mimir", "loki", "tempo", "pyroscope")
COMPONENTS_DIR = "infra/terraform/environments/prod"
MODULES_DIR = "infra/terraform/modules"

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

# Multitenancy switch of each backend (backend-api.md: defaults differ per backend).
TENANCY_KEYS = {
    "mimir": ("multitenancy_enabled",),
    "loki": ("auth_enabled",),
    "tempo": ("multitenancy_enabled",),
    "pyroscope": ("multitenancy_enabled",),
}

CONFIG_FILE = {
    "mimir": "config.yaml",
    "loki": "config.yaml",
    "tempo": "config.yaml",
    "pyroscope": "config.yaml",
    "alloy": "config.alloy",
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

_PARSE_CACHE: dict[tuple[str, str], Any] = {}


def _hcl_options():
    import hcl2

    return hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


def parse_hcl(text: str) -> dict:
    """python-hcl2 with clean serialization; cached by content (the first parse builds
    hcl2's grammar cache, later ones take milliseconds)."""
    key = ("hcl", hashlib.sha1(text.encode()).hexdigest())
    if key not in _PARSE_CACHE:
        import hcl2

        _PARSE_CACHE[key] = hcl2.loads(text, serialization_options=_hcl_options())
    return _PARSE_CACHE[key]


def parse_yaml(text: str) -> Any:
    key = ("yaml", hashlib.sha1(text.encode()).hexdigest())
    if key not in _PARSE_CACHE:
        _PARSE_CACHE[key] = yaml.safe_load(text)
    return _PARSE_CACHE[key]


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _blocks(doc: dict, kind: str) -> list[tuple[str, str, dict]]:
    """(type, name, body) of every `resource`/`data` block in a parsed .tf document."""
    out = []
    for entry in doc.get(kind, []) or []:
        for rtype, named in entry.items():
            for name, body in named.items():
                out.append((rtype, name, body))
    return out


def _named(doc: dict, kind: str) -> dict[str, dict]:
    """{name: body} of `variable`, `output` or `module` blocks."""
    out: dict[str, dict] = {}
    for entry in doc.get(kind, []) or []:
        for name, body in entry.items():
            out[name] = body if isinstance(body, dict) else {}
    return out


def _locals(doc: dict) -> dict:
    out: dict = {}
    for entry in doc.get("locals", []) or []:
        out.update(entry)
    return out


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


class Infra:
    """Read-only view of one repository tree: ``root`` holds ``infra/`` and ``.github/``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # ------------------------------------------------------------------ files
    def path(self, rel: str) -> Path:
        return self.root / rel

    def text(self, rel: str) -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def hcl(self, rel: str) -> dict:
        return parse_hcl(self.text(rel))

    def hcl_dir(self, rel_dir: str) -> dict[str, dict]:
        """{file name: parsed} for every .tf file of a directory."""
        d = self.path(rel_dir)
        return {p.name: parse_hcl(p.read_text(encoding="utf-8")) for p in sorted(d.glob("*.tf"))}

    def merged(self, rel_dir: str) -> dict[str, list]:
        """All .tf files of a directory merged by top-level block kind."""
        out: dict[str, list] = {}
        for doc in self.hcl_dir(rel_dir).values():
            for kind, items in doc.items():
                out.setdefault(kind, []).extend(items if isinstance(items, list) else [items])
        return out

    def dir_text(self, rel_dir: str) -> str:
        return "\n".join(p.read_text(encoding="utf-8") for p in sorted(self.path(rel_dir).glob("*.tf")))

    @cached_property
    def tfvars(self) -> dict:
        return self.hcl(f"{COMPONENTS_DIR}/common.tfvars")

    @cached_property
    def routes(self) -> dict:
        return json.loads(self.text("infra/routes.json"))

    @property
    def components(self) -> list[str]:
        d = self.path(COMPONENTS_DIR)
        return sorted(p.name for p in d.iterdir() if p.is_dir() and any(p.glob("*.tf")))

    @property
    def modules(self) -> list[str]:
        d = self.path(MODULES_DIR)
        return sorted(p.name for p in d.iterdir() if p.is_dir() and any(p.glob("*.tf")))

    def image_dir(self, service: str) -> str:
        return f"infra/images/{service}"

    def config_text(self, service: str) -> str:
        return self.text(f"{self.image_dir(service)}/{CONFIG_FILE[service]}")

    def config(self, service: str) -> dict:
        return parse_yaml(self.config_text(service)) or {}

    def config_files(self, service: str) -> dict[str, str]:
        """Every config file shipped in a service's image directory (not the Dockerfile)."""
        d = self.path(self.image_dir(service))
        return {
            str(p.relative_to(d)): p.read_text(encoding="utf-8")
            for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != "Dockerfile" and p.suffix in {".yaml", ".yml", ".alloy", ".ini", ".river"}
        }

    @cached_property
    def ecs_locals(self) -> dict:
        return _locals(self.merged(f"{MODULES_DIR}/ecs"))

    def task_env(self, service: str) -> dict[str, Any]:
        """Environment + secrets names of a service's task definition (modules/ecs/locals.tf)."""
        loc = self.ecs_locals
        env = dict(loc.get("common_env") or {})
        env.update((loc.get("service_env") or {}).get(service) or {})
        env.update((loc.get("service_secrets") or {}).get(service) or {})
        return env

    def workflows(self) -> dict[str, str]:
        d = self.path(".github/workflows")
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(d.glob("*.y*ml"))} if d.is_dir() else {}

    def service_config(self) -> dict[str, dict]:
        return self.tfvars.get("service_config") or {}


# ====================================================================== checks
CHECKS: dict[str, Check] = {}


def preflight(fn: Callable[[Infra], list[str]]) -> Check:
    """Register a preflight check. `fn` lists what is wrong (one line each, naming where);
    the Check raises CheckFailed with the first as its cause and the rest as evidence."""
    name = fn.__name__.removeprefix("check_")

    def run(infra: Infra) -> dict:
        problems = fn(infra)
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise CheckFailed(problems[0] + more, evidence=problems[1:], runbook=f"preflight.{name}")
        return {"check": name, "root": str(infra.root)}

    check = Check(id=f"preflight.{name}", area="preflight", fn=run, kind="preflight",
                  runbook=f"preflight.{name}", doc=fn.__doc__ or "")
    CHECKS[name] = check
    return check


def problems_of(outcome: Outcome) -> list[str]:
    """The lines a failed preflight outcome reports: its cause (without the "(+N more)"), then its evidence."""
    if outcome.status is Status.PASSED:
        return []
    return [re.sub(r" \(\+\d+ more\)$", "", outcome.cause), *outcome.evidence]


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
            text = _strip_comments(raw, name)
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
    tempo_storage = _dig(infra.config("tempo"), ("metrics_generator", "storage")) or {}
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
        if _dig(infra.config(svc), path) is not True:
            problems.append(f"{svc}: {'.'.join(path)} must be true (otherwise data lands under a default tenant)")
    return problems


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
        used = _dig(infra.config(svc), PREFIX_KEYS[svc])
        if used is None:
            problems.append(f"{svc}: config has no {'.'.join(PREFIX_KEYS[svc])} (objects would land at the bucket root)")
        elif f"${{{var}}}" not in str(used):
            problems.append(f"{svc}: {'.'.join(PREFIX_KEYS[svc])} is {used!r}, not ${{{var}}}")
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


def _strip_comments(text: str, rel: str) -> str:
    if rel.endswith((".tf", ".alloy")):
        return "\n".join(re.sub(r"(?<!:)//.*$|#.*$", "", line) for line in text.splitlines())
    if rel.endswith((".yaml", ".yml", "Dockerfile")):
        return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())
    if rel.endswith(".ini"):
        return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith((";", "#")))
    return text


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
        text = _strip_comments(raw, rel)
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
        files = _dig(infra.config(svc), ("runtime_config", "file"))
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
        if _dig(cfg, ("server", "http_path_prefix")):
            problems.append(f"{svc}: server.http_path_prefix is set; it breaks /ready and internal calls "
                            "(strip the prefix with the ALB url-rewrite transform instead)")
    if _dig(infra.config("tempo"), ("http_api_prefix",)):
        problems.append("tempo: http_api_prefix is set; the ALB strips /tempo already")
    return problems


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
    if _dig(cfg, ("server", "http_listen_port")):
        ports.add(int(_dig(cfg, ("server", "http_listen_port"))))
    for proto in (_dig(cfg, ("distributor", "receivers", "otlp", "protocols")) or {}).values():
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
    services = [b for t, n, b in _blocks(ecs, "resource") if t == "aws_ecs_service"]
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
        if (not _first(body.get("deployment_circuit_breaker"))
                or not _first(body.get("deployment_circuit_breaker")).get("rollback")):
            problems.append("modules/ecs aws_ecs_service has no deployment_circuit_breaker with rollback = true")
    mod = infra.merged(f"{COMPONENTS_DIR}/60-ecs")
    call = _named(mod, "module").get("ecs", {})
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
    alb_vars = _named(infra.merged(f"{MODULES_DIR}/alb"), "variable")
    default = (alb_vars.get("deregistration_delay") or {}).get("default")
    call = _named(infra.merged(f"{COMPONENTS_DIR}/50-alb"), "module").get("alb", {})
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
    tg = [b for t, n, b in _blocks(infra.merged(f"{MODULES_DIR}/alb"), "resource") if t == "aws_lb_target_group"]
    if not tg or any(b.get("deregistration_delay") != "${var.deregistration_delay}" for b in tg):
        problems.append("modules/alb target groups must set deregistration_delay = var.deregistration_delay")
    return problems


def _module_dir(component_dir: Path, source: str) -> Path:
    return (component_dir / source).resolve()


def _declared_vars(infra: Infra, rel_dir: str) -> dict[str, dict]:
    return _named(infra.merged(rel_dir), "variable")


@preflight
def check_module_inputs_declared(infra: Infra) -> list[str]:
    """Every module argument is a declared variable of the module, every required module
    variable is passed, and every var.X a directory uses is declared there.

    2026-01-15 15:00 (tempo_otlp_target_group_arn removed from modules/ecs but still
    wired in 60-ecs) and 18:00 (memcached_endpoint added to the module and the root).
    Terraform's own loader does not report undeclared references offline.
    """
    problems = []
    meta = {"source", "version", "providers", "count", "for_each", "depends_on"}
    dirs = [f"{COMPONENTS_DIR}/{c}" for c in infra.components] + [f"{MODULES_DIR}/{m}" for m in infra.modules]
    for rel in dirs:
        declared = set(_declared_vars(infra, rel))
        used = set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", infra.dir_text(rel)))
        for v in sorted(used - declared):
            problems.append(f"{rel}: uses var.{v} but declares no variable {v!r}")
        for name, call in _named(infra.merged(rel), "module").items():
            source = call.get("source", "")
            mdir = _module_dir(infra.path(rel), source)
            if not mdir.is_dir():
                problems.append(f"{rel}: module {name!r} source {source!r} does not exist")
                continue
            mrel = str(mdir.relative_to(infra.root.resolve()))
            mvars = _declared_vars(infra, mrel)
            for arg in sorted(set(call) - meta - set(mvars)):
                problems.append(f"{rel}: module {name!r} passes {arg!r}, which {mrel} does not declare")
            for var, body in sorted(mvars.items()):
                if "default" not in body and var not in call:
                    problems.append(f"{rel}: module {name!r} does not pass required variable {var!r} of {mrel}")
    return problems


@preflight
def check_remote_state_outputs_exported(infra: Infra) -> list[str]:
    """Every data.terraform_remote_state.X.outputs.Y a component reads is an output of the
    component X's state key points to (and that component exists).

    2026-01-15 15:00: outputs (tempo_otlp_target_group_arn) were deleted from 50-alb while
    60-ecs still read them; remote state fails only at plan time in CI.
    """
    problems = []
    for comp in infra.components:
        rel = f"{COMPONENTS_DIR}/{comp}"
        merged = infra.merged(rel)
        sources = {}
        for rtype, name, body in _blocks(merged, "data"):
            if rtype != "terraform_remote_state":
                continue
            key = str((_first(body.get("config")) or {}).get("key", ""))
            m = re.search(r"/([^/]+)/terraform\.tfstate$", key)
            if not m:
                problems.append(f"{rel}: remote state {name!r} key {key!r} is not <prefix>/<component>/terraform.tfstate")
                continue
            sources[name] = m.group(1)
        text = infra.dir_text(rel)
        for name, out in sorted(set(re.findall(r"data\.terraform_remote_state\.(\w+)\.outputs\.(\w+)", text))):
            target = sources.get(name)
            if target is None:
                problems.append(f"{rel}: reads data.terraform_remote_state.{name} which is not declared")
                continue
            trel = f"{COMPONENTS_DIR}/{target}"
            if not infra.path(trel).is_dir():
                problems.append(f"{rel}: remote state {name!r} points at missing component {target}")
                continue
            outputs = _named(infra.merged(trel), "output")
            if out not in outputs:
                problems.append(f"{rel}: reads {name}.outputs.{out} but {target} exports no output {out!r}")
    return problems


@preflight
def check_ecr_tags_unique_per_build(infra: Infra) -> list[str]:
    """The deploy workflow pushes a fresh `<version>-<timestamp>` tag and passes only the
    base version as build-arg VERSION; tfvars image_versions stay plain base versions and
    ECR tags are immutable.

    2026-01-16 04:30: an unchanged tag never rolled the tasks, and putting
    `2.9.0-20260116` into image_versions broke `FROM grafana/tempo:${VERSION}`.
    """
    problems = []
    wf_text = infra.workflows().get("deploy-ecs.yaml")
    if wf_text is None:
        return ["no .github/workflows/deploy-ecs.yaml"]
    wf = parse_yaml(wf_text) or {}
    steps = [s for job in (wf.get("jobs") or {}).values() for s in (job.get("steps") or [])]
    builds = [s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action")]
    if not builds:
        problems.append("deploy-ecs.yaml has no docker/build-push-action step")
    for step in builds:
        w = step.get("with") or {}
        m = re.search(r"(?m)^\s*VERSION=(.+?)\s*$", str(w.get("build-args", "")))
        version_expr = m.group(1) if m else None
        tag_expr = str(w.get("tags", "")).rsplit(":", 1)[-1].strip() if w.get("tags") else ""
        if not version_expr:
            problems.append("deploy-ecs.yaml build step passes no build-arg VERSION")
        elif "base_version" not in version_expr:
            problems.append(f"deploy-ecs.yaml build-arg VERSION={version_expr} must be the base version (base_version)")
        if not tag_expr:
            problems.append("deploy-ecs.yaml build step pushes no tag")
        elif version_expr and tag_expr.replace(" ", "") in version_expr.replace(" ", ""):
            problems.append(f"deploy-ecs.yaml pushes tag {tag_expr} = the base version: tags must be unique per build")
        elif "base_version" in tag_expr:
            problems.append(f"deploy-ecs.yaml pushes tag {tag_expr}, the base version: tags must be unique per build")
    if not re.search(r"date\s+(-u\s+)?['\"]?\+%Y%m%d-?%H%M%S", wf_text):
        problems.append("deploy-ecs.yaml makes no timestamp (date +%Y%m%d-%H%M%S) for the image tag")
    if not re.search(r"\{versions\[s\]\}-\{timestamp\}|\$\{?BASE_VERSION\}?-\$\{?TIMESTAMP\}?", wf_text):
        problems.append("deploy-ecs.yaml does not build the tag as <base version>-<timestamp>")
    for svc, v in (infra.tfvars.get("image_versions") or {}).items():
        if re.search(r"-\d{8}", str(v)):
            problems.append(f"image_versions.{svc} = {v!r} looks like a build tag; keep the upstream base version")
    repos = [b for t, n, b in _blocks(infra.merged(f"{MODULES_DIR}/ecr"), "resource") if t == "aws_ecr_repository"]
    if not repos or any(b.get("image_tag_mutability") != "IMMUTABLE" for b in repos):
        problems.append("modules/ecr repositories must be IMMUTABLE so a reused tag fails the push")
    return problems


@preflight
def check_bucket_versioning(infra: Infra) -> list[str]:
    """Data bucket versioning OFF, state bucket versioning ON.

    2026-01-16 05:30: destroy failed with BucketNotEmpty on the versioned data bucket;
    2026-01-15 10:00: the state bucket (bootstrap) must keep versions of the state.
    """
    problems = []

    def statuses(rel: str) -> list[str]:
        out = []
        for rtype, _name, body in _blocks(infra.merged(rel), "resource"):
            if rtype == "aws_s3_bucket_versioning":
                out.append(str((_first(body.get("versioning_configuration")) or {}).get("status")))
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
    res = {(t, n): b for t, n, b in _blocks(alb, "resource")}
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
        content = _first((transform or {}).get("content")) or {}
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
    alb = {(t, n): b for t, n, b in _blocks(infra.merged(f"{MODULES_DIR}/alb"), "resource")}
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
        act = _first(lis_https.get("default_action")) or {}
        if act.get("type") != "fixed-response":
            problems.append(f"modules/alb HTTPS default action is {act.get('type')!r}; it must be the fixed 404 of routes.json")
    actions = [a for a in (lis_http.get("default_action") or [])] + [
        _first(d.get("default_action", {}).get("content")) for d in (lis_http.get("dynamic") or []) if "default_action" in d]
    types = [(a or {}).get("type") for a in actions]
    redirect = _first((next((a for a in actions if (a or {}).get("type") == "redirect"), None) or {}).get("redirect")) or {}
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
    sg = {n: b for t, n, b in _blocks(infra.merged(f"{MODULES_DIR}/security-groups"), "resource") if t == "aws_security_group"}
    comp = _named(infra.merged(f"{COMPONENTS_DIR}/30-security-groups"), "module")
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
            ing = _first((d.get("ingress") or {}).get("content")) or {}
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
    ep = _dig(infra.config("tempo"), ("distributor", "receivers", "otlp", "protocols", "http", "endpoint"))
    if ep != f"0.0.0.0:{tg['port']}":
        problems.append(f"tempo: OTLP http receiver endpoint is {ep!r}; it must be 0.0.0.0:{tg['port']}")
    rule = _first_rule(infra.routes.get("rules") or [], "/v1/traces")
    if rule is None or rule.get("target_group") != "tempo-otlp":
        got = f"rule {rule.get('name')} sends it to {rule.get('target_group')}" if rule else "no rule forwards it"
        problems.append(f"routes.json: /v1/traces must go to the tempo-otlp target group (port {tg['port']}); {got}, "
                        "whose port has no OTLP receiver (2026-01-15 15:00)")
    return problems


GATE_WORKFLOW = "smoke-gate.yaml"
GATE_SECRETS = {  # what the gate reads at run time -> the env var the suite reads it from
    "grafana/admin-password": "LGTM_GRAFANA_PASSWORD",
    "alb/edge-secret": "LGTM_EDGE_SECRET",
}


def _wf(infra: Infra, name: str) -> dict:
    return parse_yaml(infra.workflows().get(name, "")) or {}


def _needs(job: dict) -> list[str]:
    n = job.get("needs") or []
    return [n] if isinstance(n, str) else list(n)


def _ancestors(jobs: dict, name: str) -> set[str]:
    seen: set[str] = set()
    todo = _needs(jobs.get(name) or {})
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo += _needs(jobs.get(n) or {})
    return seen


def _gate_job(infra: Infra) -> tuple[dict, dict]:
    wf = _wf(infra, GATE_WORKFLOW)
    jobs = wf.get("jobs") or {}
    return wf, (jobs.get("smoke-gate") or next(iter(jobs.values()), {}))


def _pytest_step(job: dict) -> dict:
    return next((st for st in job.get("steps") or [] if "pytest -m smoke" in str(st.get("run", ""))), {})


@preflight
def check_smoke_gate_after_every_ecs_deploy(infra: Infra) -> list[str]:
    """Every workflow job that applies 60-ecs is followed (through `needs`) by a job running
    the one smoke gate, .github/workflows/smoke-gate.yaml.

    Issue 11: an image push applied 60-ecs and its gate had no credentials; a deploy path
    without the gate ends green whatever it deployed (2026-01-16 04:30: tasks that never rolled).
    """
    problems = []
    flows = infra.workflows()
    if GATE_WORKFLOW not in flows:
        return [f".github/workflows/{GATE_WORKFLOW} is missing: the one smoke gate every deploy path calls"]
    for wf_name in sorted(flows):
        if wf_name == GATE_WORKFLOW:
            continue
        jobs = _wf(infra, wf_name).get("jobs") or {}
        gates = [n for n, j in jobs.items() if str(j.get("uses", "")).endswith("/" + GATE_WORKFLOW)]
        for name, job in jobs.items():
            uses, args = str(job.get("uses", "")), job.get("with") or {}
            comp, action = str(args.get("component", "")), str(args.get("action", ""))
            applies_ecs = (
                uses.endswith("/terraform-component.yaml") and action not in ("plan", "destroy", "output")
                and (comp == "60-ecs" or ("${{" in comp and "'60-ecs'" not in str(job.get("if", ""))))
            ) or (uses.endswith("/deploy-ecs.yaml") and str(args.get("run_smoke", True)).lower() == "false")
            if applies_ecs and not any(name in _ancestors(jobs, g) for g in gates):
                problems.append(f"{wf_name}: job {name} applies 60-ecs but no job calling {GATE_WORKFLOW} needs it; "
                                "the smoke gate must follow the ECS stage on every deploy path")
    return problems


@preflight
def check_smoke_gate_credentials_and_secrets(infra: Infra) -> list[str]:
    """The gate job may mint an OIDC token (`id-token: write`), assumes the read-only smoke
    role, and reads the Grafana password and the edge secret from Secrets Manager at run
    time (the secret names Terraform creates), masked; no GitHub secret holds them.

    Issue 11: deploy-ecs.yaml's gate had no credentials step and no Grafana password;
    terraform.yaml read secrets.GRAFANA_ADMIN_PASSWORD, which nothing ever set, and assumed
    the deploy role.
    """
    problems = []
    wf, job = _gate_job(infra)
    if not job:
        return [f"{GATE_WORKFLOW} has no smoke-gate job"]
    perms = {**(wf.get("permissions") or {}), **(job.get("permissions") or {})}
    if perms.get("id-token") != "write":
        problems.append(f"{GATE_WORKFLOW}: the gate job has no `id-token: write` permission "
                        "(it cannot assume a role through OIDC)")
    steps = job.get("steps") or []
    creds = [i for i, st in enumerate(steps) if str(st.get("uses", "")).startswith("aws-actions/configure-aws-credentials")]
    roles = [str((steps[i].get("with") or {}).get("role-to-assume", "")) for i in creds]
    if not any("AWS_SMOKE_ROLE_ARN" in r for r in roles):
        problems.append(f"{GATE_WORKFLOW}: the gate assumes {roles or 'no role'}, not the read-only smoke role "
                        "(vars.AWS_SMOKE_ROLE_ARN, 02-iam output smoke_role_arn)")
    run_at = next((i for i, st in enumerate(steps) if "pytest -m smoke" in str(st.get("run", ""))), None)
    if run_at is None:
        return problems + [f"{GATE_WORKFLOW}: no step runs `pytest -m smoke`"]
    if creds and min(creds) > run_at:
        problems.append(f"{GATE_WORKFLOW}: the credentials step comes after the pytest step")
    run = str(steps[run_at].get("run", ""))
    iam = infra.dir_text(f"{MODULES_DIR}/iam")
    readable = _smoke_readable_secrets(infra)
    for name, env in GATE_SECRETS.items():
        if f'"${{var.name}}/{name}"' not in iam:
            problems.append(f"modules/iam creates no secret <project>-<env>/{name}, which the gate reads")
        elif readable.get(name) is False:
            problems.append(f"modules/iam: the smoke role's secretsmanager:GetSecretValue does not reach the secret "
                            f"<project>-<env>/{name} (its resources name no aws_secretsmanager_secret of this module "
                            "by that name): the gate's get-secret-value would be denied")
        if "secretsmanager get-secret-value" not in run or name not in run or env not in run:
            problems.append(f"{GATE_WORKFLOW}: the pytest step does not read {name} from Secrets Manager into {env} at run time")
    outputs = _named(infra.merged(f"{COMPONENTS_DIR}/02-iam"), "output")
    if "module.iam.smoke_role_arn" not in str((outputs.get("smoke_role_arn") or {}).get("value", "")):
        problems.append("02-iam has no output smoke_role_arn = module.iam.smoke_role_arn, the repository variable "
                        "AWS_SMOKE_ROLE_ARN the gate assumes")
    if run.count("::add-mask::") < len(GATE_SECRETS):
        problems.append(f"{GATE_WORKFLOW}: the secrets read at run time are not masked (::add-mask::)")
    text = infra.workflows().get(GATE_WORKFLOW, "")
    for m in re.finditer(r"\$\{\{\s*secrets\.(\w+)", "\n".join(infra.workflows().values())):
        problems.append(f"a workflow reads secrets.{m.group(1)}: the gate takes its secrets from Secrets Manager, not GitHub")
    if "environment" not in job and "environment:" not in text:
        problems.append(f"{GATE_WORKFLOW}: the gate job is not in the production environment the smoke role trusts")
    return problems


def _smoke_readable_secrets(infra: Infra) -> dict[str, bool]:
    """{gate secret name: whether the smoke role's GetSecretValue resources name that secret's
    resource}, following `local.` references of the module. A resource reached only through a
    `var.` is not counted: 02-iam may pass nothing (it did: `var.edge_secret_arn` was null)."""
    merged = infra.merged(f"{MODULES_DIR}/iam")
    locals_ = _locals(merged)
    labels = {}
    for rtype, label, body in _blocks(merged, "resource"):
        if rtype == "aws_secretsmanager_secret":
            for name in GATE_SECRETS:
                if str(body.get("name", "")) == f"${{var.name}}/{name}":
                    labels[name] = label
    doc = next((b for t, n, b in _blocks(merged, "data") if t == "aws_iam_policy_document" and n == "smoke"), {})

    def expand(value: Any, depth: int = 0) -> str:
        text = json.dumps(value)
        for local in set(re.findall(r"local\.(\w+)", text)) if depth < 5 else ():
            if local in locals_:
                text += expand(locals_[local], depth + 1)
        return text

    reach = "".join(expand(st.get("resources", "*")) for st in doc.get("statement") or []
                    if "secretsmanager:GetSecretValue" in (st.get("actions") or []))
    return {name: f"aws_secretsmanager_secret.{label}.arn" in reach for name, label in labels.items()}


@preflight
def check_smoke_gate_expects_built_tags(infra: Infra) -> list[str]:
    """The gate passes --expect-image-tag with the tags the same run just built: its input
    image_tags, which every caller takes from the build's own tag list.

    2026-01-16 04:30 / issue 11: an image that never rolled (ECR tag reuse) kept the old
    tasks running and the gate, given no tag, could not see it.
    """
    problems = []
    wf, job = _gate_job(infra)
    run = str(_pytest_step(job).get("run", ""))
    m = re.search(r"--expect-image-tag[ =]\"?\$\{?(\w+)", run)
    env = {**(job.get("env") or {}), **(_pytest_step(job).get("env") or {})}
    if not m:
        problems.append(f"{GATE_WORKFLOW}: pytest runs without --expect-image-tag")
    elif "inputs.image_tags" not in str(env.get(m.group(1), "")):
        problems.append(f"{GATE_WORKFLOW}: --expect-image-tag ${m.group(1)} is {env.get(m.group(1))!r}, "
                        "not the caller's image_tags")
    on = wf.get("on") or wf.get(True) or {}
    if "image_tags" not in ((on.get("workflow_call") or {}).get("inputs") or {}):
        problems.append(f"{GATE_WORKFLOW}: workflow_call has no image_tags input")
    deploy = _wf(infra, "deploy-ecs.yaml")
    d_jobs = deploy.get("jobs") or {}
    build_tags = str(((d_jobs.get("prepare") or {}).get("outputs") or {}).get("image_tags", ""))
    d_on = deploy.get("on") or deploy.get(True) or {}
    d_out = str((((d_on.get("workflow_call") or {}).get("outputs") or {}).get("image_tags") or {}).get("value", ""))
    if "steps.plan.outputs.image_tags" not in build_tags:
        problems.append("deploy-ecs.yaml: the prepare job does not output image_tags from the build plan (the tags it builds)")
    if "jobs.prepare.outputs.image_tags" not in d_out:
        problems.append("deploy-ecs.yaml: workflow_call does not output image_tags (jobs.prepare.outputs.image_tags) "
                        "for its callers' gates")
    for wf_name in sorted(infra.workflows()):
        jobs = _wf(infra, wf_name).get("jobs") or {}
        for name, j in jobs.items():
            if not str(j.get("uses", "")).endswith("/" + GATE_WORKFLOW):
                continue
            value = str((j.get("with") or {}).get("image_tags", ""))
            src = re.match(r"\$\{\{\s*needs\.([\w-]+)\.outputs\.image_tags\s*\}\}$", value.strip())
            builder = jobs.get(src.group(1)) if src else None
            ok = builder is not None and (
                str(builder.get("uses", "")).endswith("/deploy-ecs.yaml")
                or "steps.plan.outputs.image_tags" in str((builder.get("outputs") or {}).get("image_tags", "")))
            if not ok:
                problems.append(f"{wf_name}: job {name} passes image_tags {value or 'nothing'}; it must be the image_tags "
                                "output of the job that built the images in this run")
    return problems


@preflight
def check_smoke_gate_uploads_reports(infra: Infra) -> list[str]:
    """The gate writes JUnit, JSON and Markdown and uploads all three with `if: always()`,
    so a red verdict still leaves its evidence.

    Issue 11 / 13: the on-call engineer reads the verdict from the artifacts of a failed run.
    """
    problems = []
    _, job = _gate_job(infra)
    run = str(_pytest_step(job).get("run", ""))
    files = {}
    for flag in ("--junitxml", "--report-json", "--summary-md"):
        m = re.search(rf"{flag}[ =](\S+)", run)
        if not m:
            problems.append(f"{GATE_WORKFLOW}: pytest runs without {flag}")
        else:
            files[flag] = m.group(1).strip("\"'")
    uploads = [st for st in job.get("steps") or [] if str(st.get("uses", "")).startswith("actions/upload-artifact")]
    if not uploads:
        return problems + [f"{GATE_WORKFLOW}: no actions/upload-artifact step"]
    for flag, f in files.items():
        up = [st for st in uploads if f in str((st.get("with") or {}).get("path", ""))]
        if not up:
            problems.append(f"{GATE_WORKFLOW}: {f} ({flag}) is not uploaded")
        elif not any("always()" in str(st.get("if", "")) for st in up):
            problems.append(f"{GATE_WORKFLOW}: the upload of {f} has no `if: always()`: a red run would lose it")
    return problems


@preflight
def check_bootstrap_state_in_bootstrap_bucket(infra: Infra) -> list[str]:
    """terraform-component.yaml initialises 00-bootstrap against the hand-made bootstrap
    bucket without DynamoDB locking, and every other component against the state bucket
    with the lock table.

    2026-01-15 10:00: the bootstrap component creates the state bucket and the lock table,
    so its own state cannot live there (init fails: bucket/table do not exist yet).
    """
    problems = []
    wf = _wf(infra, "terraform-component.yaml")
    steps = [st for job in (wf.get("jobs") or {}).values() for st in job.get("steps") or []]
    init = next((str(st.get("run", "")) for st in steps if "terraform init" in str(st.get("run", ""))), "")
    m = re.search(r'if \[ "\$\{\{ inputs\.component \}\}" = "00-bootstrap" \]; then(.*?)\belse\b(.*?)\bfi\b', init, re.DOTALL)
    if not m:
        return ["terraform-component.yaml: terraform init has no separate branch for 00-bootstrap "
                "(its state is in the bootstrap bucket)"]
    boot, rest = m.group(1), m.group(2)
    if "outputs.bootstrap_state_bucket" not in boot or "outputs.state_bucket" in boot:
        problems.append("terraform-component.yaml: 00-bootstrap is initialised against the state bucket it creates; "
                        "use bootstrap_state_bucket")
    if "dynamodb_table" in boot:
        problems.append("terraform-component.yaml: 00-bootstrap init uses the lock table it creates")
    if "outputs.state_bucket" not in rest or "dynamodb_table" not in rest:
        problems.append("terraform-component.yaml: components after 00-bootstrap must init against state_bucket "
                        "with the lock table")
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
    call = _named(infra.merged(f"{COMPONENTS_DIR}/60-ecs"), "module").get("ecs", {})
    if ("35-elasticache" not in infra.dir_text(f"{COMPONENTS_DIR}/60-ecs")
            or "outputs.memcached_endpoint" not in str(call.get("memcached_endpoint"))):
        problems.append("60-ecs does not pass memcached_endpoint from 35-elasticache's remote state")
    for svc in SERVICES:
        for name, text in infra.config_files(svc).items():
            for m in re.finditer(r"[\w.-]+\.cache\.amazonaws\.com(:\d+)?|[\w.-]*memcache[\w.-]*:\d{4,5}",
                                 _strip_comments(text, name)):
                problems.append(f"{svc}: {name} hard-codes the memcached host {m.group(0)}; use ${{MEMCACHED_ENDPOINT}}")
    return problems


@preflight
def check_iam_least_privilege(infra: Infra) -> list[str]:
    """OIDC trusts only the production environment's jobs (StringEquals, no wildcard, no
    branch/PR subject); no role can change its own policy (the Terraform role is denied
    every write on itself); only the Terraform role has IAM actions; each backend's task
    role reaches only its own bucket prefix, Grafana and Alloy have none;
    create_github_oidc_provider is wired through 02-iam.

    Issue 11: trust `repo:…:environment:*` plus iam:* on role/lgtm-prod-* (itself included)
    let any workflow naming any environment escalate; one task role let Grafana and Alloy
    overwrite any backend's blocks; 02-iam failed where the OIDC provider existed.
    """
    problems = []
    rel = f"{MODULES_DIR}/iam"
    merged = infra.merged(rel)
    docs = {n: b for t, n, b in _blocks(merged, "data") if t == "aws_iam_policy_document"}
    assume = docs.get("github_assume") or {}
    subs = [c for st in assume.get("statement") or [] for c in st.get("condition") or []
            if str(c.get("variable", "")).endswith(":sub")]
    want = "repo:${var.github_repository}:environment:${var.github_environment}"
    if not subs or any(c.get("test") != "StringEquals" or c.get("values") != [want] for c in subs):
        got = [(c.get("test"), c.get("values")) for c in subs]
        problems.append(f"modules/iam github_assume trusts sub {got or 'anything'}; it must be StringEquals [{want}] "
                        "(the production environment, which runs on the default branch only)")
    env = infra.tfvars.get("github_environment")
    if env != "production":
        problems.append(f"common.tfvars github_environment = {env!r}; the roles must trust the production environment")
    # Which policy document each role gets
    role_docs: dict[str, list[str]] = {}
    for t, _, b in _blocks(merged, "resource"):
        if t == "aws_iam_role_policy":
            role_m = re.search(r"aws_iam_role\.(\w+)", str(b.get("role", "")))
            doc = re.search(r"aws_iam_policy_document\.(\w+)", str(b.get("policy", "")))
            if role_m and doc:
                role_docs.setdefault(role_m.group(1), []).append(doc.group(1))
    roles = {n: b for t, n, b in _blocks(merged, "resource") if t == "aws_iam_role"}
    for role, names in sorted(role_docs.items()):
        statements = [st for d in names for st in (docs.get(d) or {}).get("statement") or []]
        allow_iam = [st for st in statements if str(st.get("effect", "Allow")) != "Deny"
                     and any(str(a).startswith("iam:") and a != "iam:CreateServiceLinkedRole" for a in st.get("actions") or [])]
        if not allow_iam:
            continue
        if role != "github_terraform":
            problems.append(f"modules/iam role {role} may call IAM ({allow_iam[0].get('sid')}); "
                            "only the Terraform role manages roles")
            continue
        own = str((roles.get(role) or {}).get("name", "")).replace("${var.name}", "")
        denies = [st for st in statements if st.get("effect") == "Deny"
                  and any(own and str(r).endswith(f"role/${{var.name}}{own}") for r in st.get("resources") or [])]
        denied = {a for st in denies for a in st.get("actions") or []}
        missing = {"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePolicy"} - denied
        if missing:
            problems.append(f"modules/iam role {role} may change its own policy ({', '.join(sorted(missing))} on itself "
                            "are not denied)")
    task = roles.get("task") or {}
    task_doc = docs.get("task") or {}
    if "for_each" not in task:
        problems.append("modules/iam has no per-service task roles (aws_iam_role.task for_each over the backends)")
    for st in task_doc.get("statement") or []:
        for r in st.get("resources") or []:
            if str(r).endswith("}/*") and "each.value" not in str(r):
                problems.append(f"modules/iam task role statement {st.get('sid')} reaches {r}: "
                                "a task role reaches only its own prefix")
    backends = (_named(merged, "variable").get("backends") or {}).get("default") or []
    for svc in ("grafana", "alloy"):
        if svc in backends:
            problems.append(f"modules/iam gives {svc} a task role; Grafana and Alloy make no AWS calls")
    if "lookup(var.task_role_arns, each.key, null)" not in infra.dir_text(f"{MODULES_DIR}/ecs"):
        problems.append("modules/ecs does not give each service its own task role (lookup(var.task_role_arns, each.key, null))")
    # The deploy role builds, publishes tags and waits; the gate's reads are the smoke role's alone
    # (an older deploy role carried them too, so both roles could read everything the gate reads).
    deploy_actions = {a for d in role_docs.get("github_deploy", []) for st in (docs.get(d) or {}).get("statement") or []
                      for a in st.get("actions") or []}
    smoke_only = sorted({a for st in (docs.get("smoke") or {}).get("statement") or [] for a in st.get("actions") or []}
                        & deploy_actions - {"ecs:DescribeServices"})  # the deploy's own `aws ecs wait services-stable`
    if smoke_only:
        problems.append(f"modules/iam deploy role carries the smoke gate's reads ({', '.join(smoke_only)}); they belong "
                        "to the smoke role (smoke.tf) only")
    call = _named(infra.merged(f"{COMPONENTS_DIR}/02-iam"), "module").get("iam", {})
    if call.get("create_github_oidc_provider") != "${var.create_github_oidc_provider}":
        problems.append("02-iam does not pass create_github_oidc_provider to modules/iam (it fails where the provider exists)")
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


@preflight
def check_images_pin_base_version_and_expand_env(infra: Infra) -> list[str]:
    """Each image: `ARG VERSION` + `FROM grafana/<svc>:${VERSION}`, a pinned base version in
    image_versions, and backends started with -config.expand-env=true on the config they COPY.

    2026-01-15 18:00/19:30: configs moved to ${VAR}s; without -config.expand-env they are
    taken literally. 2026-01-16 04:30: the base version is the build-arg only.
    """
    problems = []
    versions = infra.tfvars.get("image_versions") or {}
    for svc in SERVICES:
        v = versions.get(svc)
        if not v or v in {"latest", "main"}:
            problems.append(f"image_versions.{svc} must pin a release (got {v!r})")
        df_rel = f"{infra.image_dir(svc)}/Dockerfile"
        if not infra.path(df_rel).exists():
            problems.append(f"{df_rel} missing")
            continue
        df = infra.text(df_rel)
        if not re.search(r"(?m)^ARG VERSION\s*$", df) or not re.search(rf"(?m)^FROM grafana/{svc}:\$\{{VERSION\}}\s*$", df):
            problems.append(f"{df_rel}: must be `ARG VERSION` then `FROM grafana/{svc}:${{VERSION}}`")
        if svc in BACKENDS:
            cmd = re.search(r"(?m)^CMD\s+(.*)$", df)
            cmd_text = cmd.group(1) if cmd else ""
            if "-config.expand-env=true" not in cmd_text:
                problems.append(f"{df_rel}: CMD lacks -config.expand-env=true (${{VAR}}s would stay literal)")
            m = re.search(r"-config\.file=([^\"',\s]+)", cmd_text)
            if not m or not re.search(rf"(?m)^COPY\s+{re.escape(CONFIG_FILE[svc])}\s+{re.escape(m.group(1))}\s*$", df):
                problems.append(f"{df_rel}: -config.file must be the path {CONFIG_FILE[svc]} is COPY'd to")
    return problems


def run_all(infra: Infra) -> dict[str, Outcome]:
    """{check name: Outcome} for every check. A check that cannot read its inputs fails
    (naming why) instead of crashing the run."""
    out = {}
    for name, check in sorted(CHECKS.items()):
        try:
            out[name] = run_check(check, infra)
        except Exception as exc:  # noqa: BLE001 - a broken input is this check's failure, not a crash
            out[name] = Outcome(check.id, check.area, Status.FAILED,
                                f"{name} could not run: {type(exc).__name__}: {exc}", runbook=check.runbook_key)
    return out


if __name__ == "__main__":  # python -m infra.preflight.checks [repo root]
    import sys

    results = run_all(Infra(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]))
    bad = 0
    for name, outcome in results.items():
        print(f"{'FAIL' if not outcome.ok else 'ok  '} {name}")
        for line in problems_of(outcome):
            print(f"     - {line}")
        bad += not outcome.ok
    sys.exit(1 if bad else 0)
