"""The smoke role's policy, read from infra/terraform/modules/iam/smoke.tf (no hand copy):
the statements of `data.aws_iam_policy_document.smoke`, with the module's locals, variables
and the account's resource ARNs filled in, as the IAM JSON policy Terraform would render.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import hcl2

MODULE = Path("infra/terraform/modules/iam")
COMMON_TFVARS = Path("infra/terraform/environments/prod/common.tfvars")
REF = re.compile(r"\$\{([^}]+)\}")


def _load(path: Path) -> dict:
    with open(path) as f:
        return hcl2.load(
            f,
            serialization_options=hcl2.SerializationOptions(
                strip_string_quotes=True, explicit_blocks=False, with_comments=False
            ),
        )


def _blocks(tree: dict, kind: str) -> list:
    value = tree.get(kind) or []
    return value if isinstance(value, list) else [value]


def policy_document(repo: Path, refs: dict[str, str], drop: tuple[str, ...] = ()) -> dict:
    """The smoke policy as JSON. `refs` resolves what is not a local of the module:
    `var.<x>`, `aws_secretsmanager_secret.<grafana_admin|edge>.arn`, `local.account|region|partition`;
    a `var.<x>` not in `refs` takes its common.tfvars value (else its default), as the component passes it.
    `drop`: actions to leave out (to prove a check needs exactly them)."""
    trees = [_load(p) for p in sorted((repo / MODULE).glob("*.tf"))]
    locals_: dict[str, object] = {}
    defaults: dict[str, object] = {}  # var.<x> the caller does not pass: the value common.tfvars gives it
    for tree in trees:
        for block in _blocks(tree, "locals"):
            locals_.update(block)
    tfvars = _load(repo / COMMON_TFVARS)
    for tree in trees:
        for block in _blocks(tree, "variable"):
            for name, spec in block.items():
                if name in tfvars:
                    defaults[f"var.{name}"] = tfvars[name]
                elif isinstance(spec, dict) and "default" in spec:
                    defaults[f"var.{name}"] = spec["default"]
    smoke = next(
        body
        for tree in trees
        for block in _blocks(tree, "data")
        for body in [block.get("aws_iam_policy_document", {}).get("smoke")]
        if body
    )
    statements = smoke["statement"] if isinstance(smoke["statement"], list) else [smoke["statement"]]

    def resolve(expr: str):
        expr = expr.strip()
        if expr.startswith("compact(") and expr.endswith(")"):
            inner = expr[len("compact(") : -1].strip().strip("[]")
            return [v for v in (resolve(part) for part in inner.split(",")) if v]
        if expr in refs:
            return refs[expr]
        if expr in defaults:
            return defaults[expr]
        if expr.startswith("local.") and expr[6:] in locals_:
            return interpolate(locals_[expr[6:]])
        raise KeyError(f"{expr} in {MODULE}: add it to refs")

    def interpolate(value):
        if isinstance(value, list):
            return [
                v
                for item in value
                for v in (interpolate(item) if isinstance(interpolate(item), list) else [interpolate(item)])
            ]
        if not isinstance(value, str):
            return value
        whole = REF.fullmatch(value)
        if whole:
            return resolve(whole.group(1))
        return REF.sub(lambda m: str(resolve(m.group(1))), value)

    out = []
    for st in statements:
        actions = [a for a in st["actions"] if a not in drop]
        if not actions:
            continue
        resources = interpolate(st.get("resources", ["*"]))
        rendered = {
            "Sid": st.get("sid", ""),
            "Effect": st.get("effect", "Allow"),
            "Action": actions,
            "Resource": resources if isinstance(resources, list) else [resources],
        }
        conditions: dict[str, dict[str, list]] = {}
        for c in _blocks(st, "condition"):  # condition { test, variable, values } -> {"test": {"variable": values}}
            conditions.setdefault(c["test"], {})[c["variable"]] = interpolate(c["values"])
        if conditions:
            rendered["Condition"] = conditions
        out.append(rendered)
    return {"Version": "2012-10-17", "Statement": out}


def actions(repo: Path) -> list[str]:
    """Every action the smoke role allows (for tests that remove one at a time)."""
    doc = policy_document(repo, _Any())
    return [a for st in doc["Statement"] for a in st["Action"]]


class _Any(dict):
    def __contains__(self, key) -> bool:
        return True

    def __getitem__(self, key):
        return "x"


def render(repo: Path, refs: dict[str, str], drop: tuple[str, ...] = ()) -> str:
    return json.dumps(policy_document(repo, refs, drop))
