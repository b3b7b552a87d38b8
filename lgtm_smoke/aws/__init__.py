"""The AWS half of the suite: find the stack's resources, fetch what the checks need once
(concurrently, at collection time), then run cheap pure checks over that snapshot.

Layout: `settings.py` (where the stack is, what it should look like), `fetch.py` (clients,
retries, the one concurrent fetch), `snapshot.py` (the fetched facts and `aws_check`, which
makes a `lgtm_smoke.outcome.Check(kind="aws")` of a pure finder), one module per area (`ecs`,
`alb`, `s3`, `elasticache`, `cloudmap`) holding `fetch(f)` and its checks, `checks.py` (all of
them), `errors.py` (one line per AWS failure), `evidence.py` (a failing backend's AWS side),
`fixtures.py` (pytest hooks and fixtures).
"""

from typing import Any

from .snapshot import Finding, Missing, Snapshot  # noqa: F401 - the names tests and callers use


def check_context(config: Any) -> Any:
    """The ctx of every AWS check in a run (what the runner calls for kind "aws"): an AwsView."""
    import importlib

    return importlib.import_module("lgtm_smoke.aws.fixtures").check_context(config)
