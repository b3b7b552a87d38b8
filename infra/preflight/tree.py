"""The shared reader of every preflight module: the repository tree (`Infra`), its parsers and
the helpers over parsed Terraform, the `@preflight` decorator with its registry, `run_all`, and the
constants more than one concern needs. The concern modules import from here and from nowhere else in
the package (import-linter holds that: pyproject.toml).

Every check is an `lgtm_smoke.outcome.Check` with kind "preflight", id ``preflight.<failure>`` and
the repository tree (`Infra`) as its context: it returns evidence (what it looked at) or raises
`CheckFailed` whose one-line cause names the first thing to fix and whose evidence lines name the
rest, each with where it is.

Nothing here talks to AWS or the network: the inputs are the files under ``infra/``
(``terraform/``, ``images/``, ``routes.json``) and ``.github/workflows/``. Parsed files are cached
by content, so a copied-and-mutated tree only re-parses what changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from lgtm_smoke.outcome import Check, CheckFailed, Outcome, Status, run_check

HERE = Path(__file__).resolve().parent

SERVICES = ("grafana", "mimir", "loki", "tempo", "pyroscope", "alloy")
BACKENDS = ("mimir", "loki", "tempo", "pyroscope")
COMPONENTS_DIR = "infra/terraform/environments/prod"
MODULES_DIR = "infra/terraform/modules"

CONFIG_FILE = {
    "mimir": "config.yaml",
    "loki": "config.yaml",
    "tempo": "config.yaml",
    "pyroscope": "config.yaml",
    "alloy": "config.alloy",
}

# IAM actions that only read, and the one write a smoke principal (the gate's role, the canary's task
# role) may hold: its verdict in our metrics namespace (issues 20 and 21).
READ_VERBS = ("Get", "List", "Describe", "BatchGet")
METRICS_ACTION = "cloudwatch:PutMetricData"


def writes_beyond_metrics(action: str) -> bool:
    """An IAM action (wildcards included) that changes something and is not cloudwatch:PutMetricData."""
    verb = action.split(":", 1)[-1]
    return action != METRICS_ACTION and not verb.startswith(READ_VERBS)


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


def dig(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def blocks(doc: dict, kind: str) -> list[tuple[str, str, dict]]:
    """(type, name, body) of every `resource`/`data` block in a parsed .tf document."""
    out = []
    for entry in doc.get(kind, []) or []:
        for rtype, named in entry.items():
            for name, body in named.items():
                out.append((rtype, name, body))
    return out


def named(doc: dict, kind: str) -> dict[str, dict]:
    """{name: body} of `variable`, `output` or `module` blocks."""
    out: dict[str, dict] = {}
    for entry in doc.get(kind, []) or []:
        for name, body in entry.items():
            out[name] = body if isinstance(body, dict) else {}
    return out


def tf_locals(doc: dict) -> dict:
    out: dict = {}
    for entry in doc.get("locals", []) or []:
        out.update(entry)
    return out


def first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def strip_comments(text: str, rel: str) -> str:
    """`text` without its comments (by the syntax of `rel`'s kind), so a commented-out value is not a finding."""
    if rel.endswith((".tf", ".alloy")):
        return "\n".join(re.sub(r"(?<!:)//.*$|#.*$", "", line) for line in text.splitlines())
    if rel.endswith((".yaml", ".yml", "Dockerfile")):
        return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())
    if rel.endswith(".ini"):
        return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith((";", "#")))
    return text


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
        return tf_locals(self.merged(f"{MODULES_DIR}/ecs"))

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


# ====================================================================== the registry
CHECKS: dict[str, Check] = {}  # check name -> Check; run_all runs them ordered by name
MODULE_OF: dict[str, str] = {}  # check name -> the module holding it (the table in infra/preflight/__init__.py)


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
    MODULE_OF[name] = fn.__module__.rsplit(".", 1)[-1]
    return check


def problems_of(outcome: Outcome) -> list[str]:
    """The lines a failed preflight outcome reports: its cause (without the "(+N more)"), then its evidence."""
    if outcome.status is Status.PASSED:
        return []
    return [re.sub(r" \(\+\d+ more\)$", "", outcome.cause), *outcome.evidence]


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
