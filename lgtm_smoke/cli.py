"""`lgtm-smoke`: run the smoke suite or the local reference stack; write the bodies it sends (payloads).

  lgtm-smoke demo [--fault NAME …] [-- PYTEST_ARGS]   stack up, suite, verdict, stack down
  lgtm-smoke run --alb DNS [--tenant T] [-- PYTEST_ARGS]  the suite against a real ALB
  lgtm-smoke devstack [--fault NAME …]                 the stack in the foreground (Ctrl-C stops)
  lgtm-smoke payloads [--check] [--dir DIR]            write (or check) payloads/: the bodies the suite sends
  lgtm-smoke canary [--once] [--interval S] [--deadline S] [-- PYTEST_ARGS]
                                                       the suite on a schedule, pushing results (canary.py)

demo and devstack need the reference stack, a distribution of its own (`refstack/` in the
checkout, `pip install -e ./refstack`); they run it as `python -m pytest --devstack …` and
`python -m lgtm_refstack`, so this module never imports it.

The exit code is the verdict: 0 all passed, 1 a check failed, 4 usage error (`payloads --check`:
1 when a committed file differs from what the encoders make).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

USAGE_ERROR = 4
PAYLOADS_DIR = "payloads"


def _tfvars_tenant() -> str | None:
    """tenant_id of the stack's common.tfvars (this directory or a parent), if there is one."""
    from .settings import find_tfvars, load_tfvars

    return load_tfvars(find_tfvars(None, Path.cwd())).get("tenant_id")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lgtm-smoke", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="start the reference stack, run the smoke suite, print the verdict, stop")
    demo.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]", help="inject a named fault")
    # default: tenant_id of common.tfvars, the tenant the seeded AWS account (as the shipped
    # Terraform leaves it) keeps its S3 folders for; a neutral directory falls back to the stack's own
    demo.add_argument("--tenant", help="X-Scope-OrgID (default tenant_id in common.tfvars)")
    demo.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    run = sub.add_parser("run", help="run the smoke suite against an ALB (same as pytest -m smoke --alb …)")
    run.add_argument("--alb", help="ALB DNS name, host:port or URL (env LGTM_ALB)")
    run.add_argument("--tenant", help="X-Scope-OrgID (env LGTM_TENANT; default tenant_id in common.tfvars)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    canary = sub.add_parser("canary", help="run the suite every --interval seconds, each run under --deadline, "
                                           "pushing its results (--once: one run, what the scheduled task runs)")
    canary.add_argument("--once", action="store_true", help="one run under the deadline, then exit with its verdict")
    canary.add_argument("--interval", type=float, default=300.0, help="seconds from one run's start to the next (300)")
    canary.add_argument("--deadline", type=float, default=240.0, help="a run is stopped after this many seconds (240)")
    canary.add_argument("--runs", type=int, help="stop after this many runs (default: until stopped)")
    canary.add_argument("--alb", help="ALB DNS name, host:port or URL (env LGTM_ALB)")
    canary.add_argument("--tenant", help="X-Scope-OrgID (env LGTM_TENANT; default tenant_id in common.tfvars)")
    canary.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    dev = sub.add_parser("devstack", help="run the reference stack in the foreground; print the ALB URL and the "
                         "lines that run the suite against it")
    dev.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]", help="inject a named fault")
    dev.add_argument("--list-faults", action="store_true", help="list the known faults and exit")
    pay = sub.add_parser("payloads", help="write the bodies the suite sends into payloads/ (for pushing by hand)")
    pay.add_argument("--check", action="store_true", help="write nothing; exit 1 naming each file that differs")
    pay.add_argument("--dir", type=Path, help="the folder (default: payloads/ here, which must exist)")
    return p


def _payloads(folder: Path | None, check_only: bool) -> int:
    """payloads/ as the encoders make it (lgtm_smoke/payloads.py); --check only compares."""
    from . import payloads

    target = folder or Path(PAYLOADS_DIR)
    if folder is None and not target.is_dir():
        return _usage(f"no {PAYLOADS_DIR}/ in {Path.cwd()}: run from the root of a checkout, or pass --dir DIR")
    if check_only:
        if not target.is_dir():
            return _usage(f"--dir {target}: no such directory")
        drifted = payloads.drift(target)
        for line in drifted:
            print(f"{target}/{line}")
        if drifted:
            print("lgtm-smoke payloads: regenerate with `lgtm-smoke payloads` and commit the result", file=sys.stderr)
            return 1
        print(f"{target}/: {len(payloads.FILES)} files as the encoders make them")
        return 0
    target.mkdir(parents=True, exist_ok=True)
    changed = payloads.write(target)
    print(f"{target}/: {', '.join(changed) + ' written' if changed else 'unchanged'}")
    return 0


def _rest(args: list[str]) -> list[str]:
    return args[1:] if args[:1] == ["--"] else args


def _pytest(args: list[str]) -> int:
    import pytest

    # No test path: the plugin runs the shipped suite. -rfE: the verdict table already lists
    # skipped areas; the summary keeps only failures.
    return int(pytest.main(["-m", "smoke", "-p", "no:cacheprovider", "-rfE", *args]))


def _refstack(argv: list[str]) -> None:
    """Hand over to the reference stack (a separate distribution, never imported here): the
    process becomes `python -m ...`, so Ctrl-C and the exit code are the stack's own."""
    import importlib.util
    import os

    if importlib.util.find_spec("lgtm_refstack") is None:
        raise SystemExit(_usage("the local reference stack is not installed: pip install -e ./refstack "
                                "(from a checkout of lgtm-smoke; `bash .ci/run demo` does it)"))
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, *argv])


def _usage(message: str) -> int:
    print(f"lgtm-smoke: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        extra = [f"--alb={args.alb}"] if args.alb else []
        extra += [f"--tenant={args.tenant}"] if args.tenant else []
        return _pytest(extra + _rest(args.pytest_args))
    if args.command == "canary":
        from . import canary as canary_mod

        extra = [f"--alb={args.alb}"] if args.alb else []
        extra += [f"--tenant={args.tenant}"] if args.tenant else []
        try:
            return canary_mod.main(extra + _rest(args.pytest_args), args.interval, args.deadline, args.once, args.runs)
        except canary_mod.CanaryUsageError as e:
            return _usage(str(e))
    if args.command == "demo":
        faults = [f"--fault={f}" for f in args.fault]
        tenant_id = args.tenant or _tfvars_tenant()
        tenant = [f"--tenant={tenant_id}"] if tenant_id else []
        _refstack(["-m", "pytest", "-m", "smoke", "-p", "no:cacheprovider", "-rfE", "--devstack",
                   *tenant, *faults, *_rest(args.pytest_args)])
    if args.command == "payloads":
        return _payloads(args.dir, args.check)
    if args.command == "devstack":
        _refstack(["-m", "lgtm_refstack", *(["--list-faults"] if args.list_faults else []),
                   *(f"--fault={f}" for f in args.fault)])
    return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
