"""The copy-and-mutate mechanics every broken fixture shares: a copy of infra/ and
.github/workflows/ (`Tree`), the files the fixtures edit, and the one assertion that a check
fails on its broken copy with a one-line cause and a message naming what broke.

Each concern's fixtures live beside it, in ``test_<module>.py`` for ``infra/preflight/<module>.py``:

    BROKEN = [(check, fixture id, [(file, old, new), ...], text a message must contain), ...]

    @pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
    def test_check_fails_on_broken_tree(tree, check, edits, expected):
        broken.assert_fails(tree, check, edits, expected)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.preflight import CHECKS, Infra, problems_of
from lgtm_smoke.outcome import Status, run_check

REPO = Path(__file__).resolve().parents[2]

# The files the fixtures break, relative to the tree's root.
TFVARS = "infra/terraform/environments/prod/common.tfvars"
ECS_LOCALS = "infra/terraform/modules/ecs/locals.tf"
ECS_MAIN = "infra/terraform/modules/ecs/main.tf"
ECS_ALARMS = "infra/terraform/modules/ecs/alarms.tf"
ALB_MAIN = "infra/terraform/modules/alb/main.tf"
ALB_COMP = "infra/terraform/environments/prod/50-alb/main.tf"
MIMIR = "infra/images/mimir/config.yaml"
LOKI = "infra/images/loki/config.yaml"
TEMPO = "infra/images/tempo/config.yaml"
PYRO = "infra/images/pyroscope/config.yaml"
ALLOY = "infra/images/alloy/config.alloy"
DATASOURCES = "infra/images/grafana/provisioning/datasources/datasources.yaml"
DEPLOY = ".github/workflows/deploy-ecs.yaml"
ROUTES = "infra/routes.json"
SG_MAIN = "infra/terraform/modules/security-groups/main.tf"
GATE = ".github/workflows/smoke-gate.yaml"
COMPONENT_WF = ".github/workflows/terraform-component.yaml"
TERRAFORM = ".github/workflows/terraform.yaml"
IAM_MAIN = "infra/terraform/modules/iam/main.tf"
IAM_SMOKE = "infra/terraform/modules/iam/smoke.tf"
IAM_PAGING = "infra/terraform/modules/iam/paging.tf"
IAM_COMP = "infra/terraform/environments/prod/02-iam/main.tf"
ECS_COMP = "infra/terraform/environments/prod/60-ecs/main.tf"
IAM_COMP_OUTPUTS = "infra/terraform/environments/prod/02-iam/outputs.tf"
INSTALL_SH = "tools/install.sh"
CANARY_COMP = "infra/terraform/environments/prod/70-smoke-canary/main.tf"
CANARY_COMP_VARS = "infra/terraform/environments/prod/70-smoke-canary/variables.tf"
CANARY_MAIN = "infra/terraform/modules/smoke-canary/main.tf"
MIMIR_DOCKERFILE = "infra/images/mimir/Dockerfile"


class Tree:
    """A copy of infra/, .github/workflows/ and the locked installer under tmp_path, to break on purpose."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def replace(self, rel: str, old: str, new: str, count: int = 1) -> Tree:
        p = self.path(rel)
        text = p.read_text()
        assert old in text, f"fixture mutation does not apply: {old!r} not in {rel}"
        p.write_text(text.replace(old, new, count))
        return self

    def append(self, rel: str, text: str) -> Tree:
        p = self.path(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("a") as f:
            f.write(text)
        return self

    def infra(self) -> Infra:
        return Infra(self.root)


def copy_tree(dest: Path) -> Tree:
    ignore = shutil.ignore_patterns(".terraform", "__pycache__", "*.pyc", ".terraform.lock.hcl")
    shutil.copytree(REPO / "infra", dest / "infra", ignore=ignore)
    shutil.copytree(REPO / ".github" / "workflows", dest / ".github" / "workflows", ignore=ignore)
    (dest / INSTALL_SH).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / INSTALL_SH, dest / INSTALL_SH)  # the workflows' one install, read by preflight
    return Tree(dest)


def params(cases: list) -> list:
    """One pytest param per fixture, with the id ``<check>[<fixture id>]``."""
    return [pytest.param(c, e, x, id=f"{c}[{i}]") for c, i, e, x in cases]


def assert_fails(tree: Tree, check: str, edits: list, expected: str) -> None:
    """Apply `edits` to the copy; `check` must fail with a one-line cause, one of its lines containing `expected`."""
    for rel, old, new in edits:
        tree.replace(rel, old, new)
    outcome = run_check(CHECKS[check], tree.infra())
    assert outcome.status is Status.FAILED, f"{check} passed on a tree broken on purpose"
    assert "\n" not in outcome.cause, f"{check}: the cause is not one line: {outcome.cause!r}"
    problems = problems_of(outcome)
    assert any(expected in p for p in problems), f"{check}: no message contains {expected!r}:\n  " + "\n  ".join(problems)
