"""The layering, lint and types, as tests so CI runs them: import-linter's contracts
(pyproject.toml [tool.importlinter]; the preflight one also on copies broken on purpose), no import
cycle inside lgtm_smoke.backends (and lgtm_smoke.aws, once its restructure is on main), ruff over
the code the core owns and the infra preflight, mypy --strict on the core."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = ["lgtm_smoke/plugin.py", "lgtm_smoke/settings.py", "lgtm_smoke/runner.py", "lgtm_smoke/retry.py",
        "lgtm_smoke/http.py", "lgtm_smoke/outcome.py", "lgtm_smoke/probe.py", "lgtm_smoke/preconditions.py",
        "lgtm_smoke/verdict", "lgtm_smoke/data"]
LINTED = [*CORE, "lgtm_smoke/backends/mimir", "lgtm_smoke/backends/loki", "lgtm_smoke/backends/tempo",
          "lgtm_smoke/backends/pyroscope", "lgtm_smoke/backends/grafana", "lgtm_smoke/backends/alb",
          "lgtm_smoke/backends/security.py", "lgtm_smoke/payloads.py", "tests/unit", "tests/integration", "tests/alb",
          "tests/harness.py", "bench",
          "infra/preflight", "tests/preflight"]


def tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return path


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def test_import_contracts_hold():
    proc = run([tool("lint-imports"), "--no-cache"])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def preflight_contract() -> dict:
    """The contract that keeps infra/preflight's concern modules apart, as pyproject.toml states it."""
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c.get("containers") == ["infra.preflight"])


@pytest.mark.parametrize("breakage,expected", [
    (None, "1 kept, 0 broken"),
    (("routes.py", "from . import configs  # noqa: F401\n"),
     "infra.preflight.routes is not allowed to import infra.preflight.configs"),
    # a module name no concern has (canary.py is one now)
    (("unlisted.py", "from .tree import Infra  # noqa: F401\n"), "not listed as layers:\n\n- infra.preflight.unlisted"),
], ids=["clean", "concern-imports-concern", "module-in-no-layer"])
def test_the_preflight_contract_catches(tmp_path, breakage, expected):
    """The preflight contract, run on a copy of the package: clean it holds; a concern importing another,
    or a module in no layer, breaks it."""
    import json

    shutil.copytree(REPO / "infra" / "preflight", tmp_path / "infra" / "preflight",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if breakage:
        name, line = breakage
        with (tmp_path / "infra" / "preflight" / name).open("a") as f:
            f.write(line)
    config = ["[tool.importlinter]", 'root_packages = ["infra.preflight"]', "", "[[tool.importlinter.contracts]]"]
    config += [f"{key} = {json.dumps(value)}" for key, value in preflight_contract().items()]
    (tmp_path / "pyproject.toml").write_text("\n".join(config) + "\n")
    proc = subprocess.run([tool("lint-imports"), "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert (proc.returncode == 0) is (breakage is None), proc.stdout[-3000:] + proc.stderr[-1000:]
    assert expected in proc.stdout, proc.stdout[-3000:]


# lgtm_smoke.aws joins as soon as the AWS room's restructure (no discovery ⇄ area cycle) is on main.
@pytest.mark.parametrize("package", ["lgtm_smoke.backends"])
def test_no_import_cycle_inside(package):
    import grimp

    graph = grimp.build_graph("lgtm_smoke")
    modules = {m for m in graph.modules if m == package or m.startswith(package + ".")}
    edges = {m: {i for i in graph.find_modules_directly_imported_by(m) if i in modules and i != m} for m in modules}
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 done

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                return [*path[path.index(n):], n] if n in path else [*path, m, n]
            if n not in state and (cycle := visit(n, [*path, n])):
                return cycle
        state[m] = 2
        return None

    for m in sorted(modules):
        if m not in state and (cycle := visit(m, [m])):
            pytest.fail(f"import cycle in {package}: {' → '.join(cycle)}")


def test_ruff_is_clean():
    proc = run([tool("ruff"), "check", *LINTED])
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_mypy_strict_on_the_core():
    proc = run([tool("mypy"), "--strict", *CORE])
    assert proc.returncode == 0, proc.stdout[-4000:]
