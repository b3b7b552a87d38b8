"""What the AWS checks add to a healthy run: `-m "smoke and aws"` against a moto server seeded
with the whole stack (tests/aws/seed.py) vs. the same run with --skip-aws; medians of 7.

    python bench/aws_cost.py
"""
import importlib.util
import logging
import statistics
import sys
import tempfile
from pathlib import Path

from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "aws")]
import seed as seeding  # noqa: E402  (tests/aws/seed.py)
from harness import run_pytest  # noqa: E402  (tests/harness.py)

_spec = importlib.util.spec_from_file_location("aws_conftest", ROOT / "tests" / "aws" / "conftest.py")
aws_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aws_conftest)


def main(runs: int = 7) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="lgtm-aws-bench-"))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        stack = seeding.seed(endpoint)
        tags = ",".join(f"{svc}={stack.image_tag(svc)}" for svc in stack.images)

        def run(*extra: str) -> float:
            result = run_pytest(["-m", "smoke and aws", "--alb", "127.0.0.1", "--tfvars", str(seeding.TFVARS),
                                 "--aws-endpoint-url", endpoint, "--expect-image-tag", tags, *extra], work,
                                env=aws_conftest.aws_env(stack), drop=("AWS_", "LGTM_"))
            assert result.returncode == 0, result.output[-2000:]
            return result.seconds

        run(), run("--skip-aws")  # warm-up
        with_aws = statistics.median(run() for _ in range(runs))
        skipped = statistics.median(run("--skip-aws") for _ in range(runs))
        print(f"aws checks {with_aws:.2f} s, same run with --skip-aws {skipped:.2f} s: "
              f"the AWS checks add {with_aws - skipped:.2f} s (medians of {runs})")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
