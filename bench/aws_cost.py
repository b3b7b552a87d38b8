"""What the AWS checks add to a healthy run: `-m "smoke and aws"` against the reference
stack's seeded AWS account (refstack/lgtm_refstack/aws: moto with IAM enforcement, as the
smoke role) vs. the same run with --skip-aws; medians of 7, one run.

    python bench/aws_cost.py
"""

import importlib.util
import logging
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "aws")]
from harness import run_pytest  # noqa: E402 - tests/harness.py
from lgtm_refstack.aws import seed as seeding  # noqa: E402
from lgtm_refstack.aws import start_account  # noqa: E402

_spec = importlib.util.spec_from_file_location("aws_conftest", ROOT / "tests" / "aws" / "conftest.py")
aws_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aws_conftest)


def main(runs: int = 7) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="lgtm-aws-bench-"))
    account = start_account()
    endpoint = account.endpoint_url
    try:
        stack = account.seeded
        tags = ",".join(f"{svc}={stack.image_tag(svc)}" for svc in stack.images)

        def run(*extra: str) -> float:
            result = run_pytest(
                [
                    "-m",
                    "smoke and aws",
                    "--alb",
                    "127.0.0.1",
                    "--tfvars",
                    str(seeding.TFVARS),
                    "--aws-endpoint-url",
                    endpoint,
                    "--expect-image-tag",
                    tags,
                    *extra,
                ],
                work,
                env=aws_conftest.aws_env(account),
                drop=("AWS_", "LGTM_"),
            )
            assert result.returncode == 0, result.output[-2000:]
            return result.seconds

        run(), run("--skip-aws")  # warm-up
        with_aws = statistics.median(run() for _ in range(runs))
        skipped = statistics.median(run("--skip-aws") for _ in range(runs))
        print(
            f"aws checks {with_aws:.2f} s, same run with --skip-aws {skipped:.2f} s: "
            f"the AWS checks add {with_aws - skipped:.2f} s (medians of {runs})"
        )
    finally:
        account.close()


if __name__ == "__main__":
    main()
