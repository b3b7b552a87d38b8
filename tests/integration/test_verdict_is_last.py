"""A red run ends with its verdict: the root causes and the headline are the last screen of
output, after pytest's own summaries (ERRORS, the short summary's one line per blocked check),
so the on-call engineer's last screen names the causes, not 69 symptoms; JUnit still records
each blocked check as an error."""
from __future__ import annotations

import re

from harness import no_aws_credentials, run_pytest

SCREEN = 25  # lines: what a terminal still shows when the run ends
STATS = re.compile(r"^=*\s*\d+ \w+.* in \d+\.\d+s\b")  # pytest's closing line: "69 errors in 2.39s"


def last_screen_problems(output: str, preconditions: set[str]) -> list[str]:
    """What is missing from the last screen: a root-cause line per failed precondition, and the
    headline with nothing after it but pytest's closing count."""
    screen = output.rstrip("\n").splitlines()[-SCREEN:]
    problems = [f"no 'root cause [{p}]' line in the last {SCREEN}" for p in sorted(preconditions)
                if not any(line.startswith(f"  root cause [{p}]: ") for line in screen)]
    headline = [i for i, line in enumerate(screen) if line.startswith("verdict: RED: ")]
    if not headline:
        problems.append(f"no 'verdict: RED: …' headline in the last {SCREEN} lines")
    elif not all(STATS.match(line) for line in screen[headline[-1] + 1:]):
        problems.append(f"printed after the headline: {screen[headline[-1] + 1:]}")
    return problems


def blocking_preconditions(failed: dict[str, str]) -> set[str]:
    """The preconditions JUnit's errors name (`blocked by alb: …`): every one is a root cause."""
    return {m.group(1) for message in failed.values() if (m := re.search(r"blocked by ([\w.\-]+)", message))}


def old_order(output: str) -> str:
    """The same output as it was printed before the verdict moved last: the verdict section,
    then pytest's short summary."""
    lines = output.rstrip("\n").splitlines()
    summary = next(i for i, line in enumerate(lines) if "short test summary info" in line)
    verdict = next(i for i, line in enumerate(lines) if " lgtm-smoke verdict " in line)
    assert summary < verdict, "the verdict section should come after pytest's short summary"
    return "\n".join(lines[:summary] + lines[verdict:-1] + lines[summary:verdict] + lines[-1:]) + "\n"


def test_a_dead_albs_last_screen_is_its_root_causes_and_headline(tmp_path):
    """Nothing listens at the ALB and there are no AWS credentials: 69 blocked checks, 69 short
    summary lines, and still the last 25 lines hold both root causes and the headline."""
    run = run_pytest(["-m", "smoke", "--alb", "127.0.0.1:1", "--tenant", "t"], tmp_path,
                     env=no_aws_credentials(tmp_path))
    assert run.returncode == 1 and not run.passed, run.output[-3000:]
    roots = blocking_preconditions(run.failed)
    assert roots == {"alb", "aws.credentials"}, roots
    errors = re.findall(r"<error ", run.files["junit.xml"])
    assert len(errors) == len(run.failed) >= 60  # every blocked check is still a JUnit error
    problems = last_screen_problems(run.output, roots)
    assert not problems, f"{problems}\n{run.output[-4000:]}"
    # The same lines in the order they had before (verdict, then pytest's short summary): red.
    assert last_screen_problems(old_order(run.output), roots) == [
        "no 'root cause [alb]' line in the last 25", "no 'root cause [aws.credentials]' line in the last 25",
        "no 'verdict: RED: …' headline in the last 25 lines"]


def test_a_fault_runs_last_screen_is_its_root_cause_and_headline(run_smoke):
    """Loki's route gone (the ALB's 404) against the reference stack: its root cause and the
    headline end the output, below the table of every check that passed."""
    run = run_smoke("smoke", ["loki-route-404"])
    assert run.returncode == 1, run.output[-3000:]
    roots = blocking_preconditions(run.failed)
    assert roots == {"target_group.loki"}, run.failed
    problems = last_screen_problems(run.output, roots)
    assert not problems, f"{problems}\n{run.output[-4000:]}"
    assert last_screen_problems(old_order(run.output), roots) != []
