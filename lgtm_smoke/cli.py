"""`lgtm-smoke`: run the smoke suite, or the local reference stack.

  lgtm-smoke demo [--fault NAME …] [-- PYTEST_ARGS]   stack up, suite, verdict, stack down
  lgtm-smoke run --alb DNS [--tenant T] [-- PYTEST_ARGS]  the suite against a real ALB
  lgtm-smoke devstack [--fault NAME …]                 the stack in the foreground (Ctrl-C stops)

The exit code is the verdict: 0 all passed, 1 a check failed, 4 usage error.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

USAGE_ERROR = 4
DEMO_TENANT = "lgtm-smoke-demo"
DEV_TENANT = "lgtm-smoke-dev"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lgtm-smoke", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="start the reference stack, run the smoke suite, print the verdict, stop")
    demo.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]", help="inject a named fault")
    demo.add_argument("--tenant", default=DEMO_TENANT)
    demo.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    run = sub.add_parser("run", help="run the smoke suite against an ALB (same as pytest -m smoke --alb …)")
    run.add_argument("--alb", help="ALB DNS name, host:port or URL (env LGTM_ALB)")
    run.add_argument("--tenant", help="X-Scope-OrgID (env LGTM_TENANT; default tenant_id in common.tfvars)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    dev = sub.add_parser("devstack", help="run the reference stack in the foreground; print the ALB URL")
    dev.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]", help="inject a named fault")
    dev.add_argument("--list-faults", action="store_true", help="list the known faults and exit")
    return p


def _rest(args: list[str]) -> list[str]:
    return args[1:] if args[:1] == ["--"] else args


def _pytest(args: list[str]) -> int:
    import pytest

    from .plugin import SUITE

    # -rfE: the verdict table already lists skipped areas; the summary keeps only failures
    return int(pytest.main([*map(str, SUITE), "-m", "smoke", "-p", "no:cacheprovider", "-rfE", *args]))


def _start_stack(faults: list[str], tenants=()):
    from .devstack.faults import FaultError
    from .devstack.nginx import ServiceStartError
    from .devstack.stack import ReferenceStack

    try:
        return ReferenceStack(faults, tenants=tenants).start()
    except FaultError as e:
        raise SystemExit(_usage(f"--fault: {e}"))
    except ServiceStartError as e:
        raise SystemExit(_usage(f"reference stack did not start: {e}"))


def _usage(message: str) -> int:
    print(f"lgtm-smoke: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        extra = [f"--alb={args.alb}"] if args.alb else []
        extra += [f"--tenant={args.tenant}"] if args.tenant else []
        return _pytest(extra + _rest(args.pytest_args))
    if args.command == "demo":
        stack = _start_stack(args.fault, tenants=(args.tenant,))
        try:
            print(f"reference stack up in {stack.started_in:.2f}s: ALB {stack.url}"
                  + (f", faults: {', '.join(stack.faults.describe())}" if stack.faults else ""), flush=True)
            return _pytest([f"--alb={stack.url}", f"--tenant={args.tenant}", *_stack_args(stack), *_rest(args.pytest_args)])
        finally:
            stack.stop()
    if args.command == "devstack":
        if args.list_faults:
            from .devstack.faults import KNOWN

            for name, (takes_value, text) in sorted(KNOWN.items()):
                print(f"{name + ('=VALUE' if takes_value else ''):32} {text}")
            return 0
        return _foreground(args.fault)
    return USAGE_ERROR


def _stack_args(stack) -> list[str]:
    """Settings the stack defines that the suite needs (e.g. its Grafana login)."""
    hook = getattr(stack, "suite_args", None)
    return hook() if hook else []


def _foreground(faults: list[str]) -> int:
    stack = _start_stack(faults, tenants=(DEV_TENANT,))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        print(f"reference stack up in {stack.started_in:.2f}s", flush=True)
        print(f"ALB: {stack.url}")
        if stack.faults:
            print(f"faults: {', '.join(stack.faults.describe())}")
        secret = stack.workdir / "grafana-password"  # the password is never printed, only where to read it
        secret.touch(mode=0o600)
        secret.write_text(stack.grafana_password)
        print(f"tenant: {DEV_TENANT} (the one Grafana's datasources send)")
        print(f'run: export LGTM_GRAFANA_PASSWORD="$(cat {secret})"')
        print(f"     pytest -m smoke --alb {stack.url} --tenant {DEV_TENANT}   (Ctrl-C stops the stack)", flush=True)
        stop.wait()
    finally:
        stack.stop()
        print("reference stack stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
