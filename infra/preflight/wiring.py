"""Terraform wiring between components and modules: every module argument and var.X declared,
every required variable passed, every remote-state output read exported by the component it names."""

from __future__ import annotations

import re
from pathlib import Path

from .tree import COMPONENTS_DIR, MODULES_DIR, Infra, blocks, first, named, preflight


def _module_dir(component_dir: Path, source: str) -> Path:
    return (component_dir / source).resolve()


def _declared_vars(infra: Infra, rel_dir: str) -> dict[str, dict]:
    return named(infra.merged(rel_dir), "variable")


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
        for name, call in named(infra.merged(rel), "module").items():
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
        for rtype, name, body in blocks(merged, "data"):
            if rtype != "terraform_remote_state":
                continue
            key = str((first(body.get("config")) or {}).get("key", ""))
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
            outputs = named(infra.merged(trel), "output")
            if out not in outputs:
                problems.append(f"{rel}: reads {name}.outputs.{out} but {target} exports no output {out!r}")
    return problems
