"""One job of a GitHub Actions workflow, run here the way the runner runs it, so a test can
prove that the job as written does what it says.

What is the runner's, done as the runner does it:
- every `run:` step is `bash --noprofile --norc -eo pipefail` on a script file, in the
  workspace, with the job's `env:` then the step's `env:` over the runner's environment;
  `${{ ... }}` is substituted before the script is written (as GitHub does, so an
  expression in a script is text, not a variable);
- each step gets a fresh `$GITHUB_OUTPUT` file; what it writes there is `steps.<id>.outputs`;
- `$GITHUB_STEP_SUMMARY` is one file for the job;
- `::add-mask::VALUE` on a step's stdout is a workflow command: the runner swallows the
  line and masks VALUE in every later line of the log;
- a failed step fails the job; later steps run only if their `if:` is `always()` (or
  `failure()`).

What is not the runner's: a `uses:` step (an action) runs only through a stand-in the
test supplies for it, and a `run:` step can be skipped only by a rule the test supplies
(with the reason, which the run records). Anything else a job needs that this runner does
not model, an unknown action or an expression it cannot resolve, fails with one line
naming it: a job that changes shape makes the test say what to model, never pass quietly.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
HASH_FILES = re.compile(r"hashFiles\((.*)\)")
MASK = "::add-mask::"
SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]  # GitHub's `shell: bash` on Linux


class JobShapeError(Exception):
    """The job needs something this runner or the test's stand-ins do not model (one line)."""


@dataclass
class Step:
    name: str
    kind: str  # "run" | "uses" | "skipped" | "not run"
    returncode: int = 0
    output: str = ""  # stdout + stderr, workflow commands removed, NOT masked (the test checks it)
    outputs: dict[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass
class Context:
    """What a stand-in for an action sees and may change."""

    workspace: Path
    env: dict[str, str]  # the job's environment so far; a stand-in's exports go here
    with_: dict[str, str]  # the step's `with:`, expressions resolved
    uploads: dict[str, list[Path]]  # artifact name -> the files it would upload


Action = Callable[[Context], str]  # returns a note for the run's record


@dataclass
class JobRun:
    steps: list[Step]
    masks: list[str]
    summary: str
    uploads: dict[str, list[Path]]

    @property
    def returncode(self) -> int:
        """The first failed step's exit status (the job's conclusion), else 0."""
        return next((s.returncode for s in self.steps if s.returncode), 0)

    @property
    def output(self) -> str:
        """Everything the steps printed (unmasked), in order."""
        return "".join(f"--- {s.name} [{s.kind}] {s.note}\n{s.output}" for s in self.steps)

    def log(self) -> str:
        """The log as GitHub shows it: every mask applied."""
        text = self.output
        for value in self.masks:
            text = text.replace(value, "***")
        return text

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


def load_job(workflow: Path, job_id: str) -> dict:
    wf = yaml.safe_load(workflow.read_text())
    job = (wf.get("jobs") or {}).get(job_id)
    if not job or "steps" not in job:
        raise JobShapeError(f"{workflow.name}: no job {job_id!r} with steps")
    return job


def step_name(step: dict, index: int) -> str:
    return str(step.get("name") or step.get("id") or step.get("uses") or f"step {index + 1}")


class Runner:
    """`contexts`: the value of every expression the job may use that is not a step output,
    e.g. {"vars.ALB_HOSTNAME": "127.0.0.1:8443", "inputs.image_tags": "...", "github.run_id": "1"}.
    `actions`: stand-ins by action name without its ref ("actions/checkout").
    `skip`: (predicate on a run: script, reason) pairs."""

    def __init__(self, workspace: Path, runner_env: dict[str, str], contexts: dict[str, str],
                 actions: dict[str, Action], skip: Sequence[tuple[Callable[[str], bool], str]] = (),
                 timeout: float = 600):
        self.workspace = workspace
        self.runner_env = runner_env
        self.contexts = dict(contexts)
        self.actions = actions
        self.skip = list(skip)
        self.timeout = timeout
        self._files = 0
        self.temp = workspace.parent / "runner-temp"
        self.temp.mkdir(parents=True, exist_ok=True)

    # --- expressions ---------------------------------------------------------------------
    def resolve(self, text: Any, where: str) -> str:
        def one(m: re.Match) -> str:
            expr = m.group(1)
            files = HASH_FILES.fullmatch(expr)
            if files:
                return self.hash_files(re.findall(r"'([^']+)'", files.group(1)))
            if expr not in self.contexts:
                raise JobShapeError(f"{where}: the expression ${{{{ {expr} }}}} has no value in this test "
                                    f"(known: {', '.join(sorted(self.contexts))})")
            return self.contexts[expr]

        return EXPR.sub(one, str(text))

    def hash_files(self, patterns: list[str]) -> str:
        """GitHub's hashFiles(): one SHA-256 over the matching files' own hashes ('' when none match)."""
        found = sorted({p for pattern in patterns for p in self.workspace.glob(pattern) if p.is_file()})
        if not found:
            return ""
        return hashlib.sha256(b"".join(hashlib.sha256(p.read_bytes()).digest() for p in found)).hexdigest()

    def wanted(self, step: dict, failed: bool, where: str) -> bool:
        cond = str(step.get("if", "success()")).strip()
        wrapped = EXPR.fullmatch(cond)
        cond = wrapped.group(1) if wrapped else cond
        if cond == "always()":
            return True
        if cond == "success()":
            return not failed
        if cond == "failure()":
            return failed
        raise JobShapeError(f"{where}: `if: {cond}` is not modelled (always(), success(), failure())")

    # --- the job -------------------------------------------------------------------------
    def run(self, job: dict) -> JobRun:
        env = dict(self.runner_env)
        env.update({k: self.resolve(v, f"job env {k}") for k, v in (job.get("env") or {}).items()})
        summary = self.temp / "step_summary.md"
        summary.write_text("")
        env["GITHUB_STEP_SUMMARY"] = str(summary)
        masks: list[str] = []
        uploads: dict[str, list[Path]] = {}
        steps: list[Step] = []
        failed = False
        for i, step in enumerate(job["steps"]):
            name = step_name(step, i)
            if not self.wanted(step, failed, name):
                steps.append(Step(name, "not run", note="(an earlier step failed)"))
                continue
            if "uses" in step:
                result = self._uses(step, name, env, uploads)
            else:
                result = self._run(step, name, env, masks)
            steps.append(result)
            if step.get("id"):
                for key, value in result.outputs.items():
                    self.contexts[f"steps.{step['id']}.outputs.{key}"] = value
            failed = failed or result.returncode != 0
        return JobRun(steps, masks, summary.read_text(), uploads)

    def _uses(self, step: dict, name: str, env: dict[str, str], uploads: dict[str, list[Path]]) -> Step:
        action = str(step["uses"]).split("@", 1)[0]
        if action not in self.actions:
            raise JobShapeError(f"{name}: uses {step['uses']}, which this test has no stand-in for")
        with_ = {k: self.resolve(v, f"{name} with.{k}") for k, v in (step.get("with") or {}).items()}
        note = self.actions[action](Context(self.workspace, env, with_, uploads))
        return Step(name, "uses", note=f"stand-in for {action}: {note}")

    def _run(self, step: dict, name: str, env: dict[str, str], masks: list[str]) -> Step:
        script = self.resolve(step["run"], f"{name} run")
        for predicate, reason in self.skip:
            if predicate(script):
                return Step(name, "skipped", note=reason)
        step_env = {**env, **{k: self.resolve(v, f"{name} env {k}") for k, v in (step.get("env") or {}).items()}}
        self._files += 1
        out_file = self.temp / f"output-{self._files}"
        out_file.write_text("")
        step_env["GITHUB_OUTPUT"] = str(out_file)
        path = self.temp / f"step-{self._files}.sh"
        path.write_text(script)
        proc = subprocess.run([*SHELL, str(path)], cwd=self.workspace, env=step_env, capture_output=True, text=True,
                              timeout=self.timeout, stdin=subprocess.DEVNULL)
        lines = []
        for line in proc.stdout.splitlines(keepends=True):
            if line.startswith(MASK):  # a workflow command: the runner takes it, the log never shows it
                value = line[len(MASK):].rstrip("\n")
                if value:
                    masks.append(value)
            else:
                lines.append(line)
        return Step(name, "run", proc.returncode, "".join(lines) + proc.stderr, parse_outputs(out_file.read_text()))


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT: `key=value` lines and `key<<DELIM` … `DELIM` blocks."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            body = []
            for more in lines:
                if more == delim:
                    break
                body.append(more)
            out[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out
