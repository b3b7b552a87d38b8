"""`python -m lgtm_refstack [--fault NAME …]`: the reference stack in the foreground (Ctrl-C
stops it); `--list-faults` names every fault. Exit 4 with one line on bad input."""
from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading

USAGE_ERROR = 4
DEV_TENANT = "lgtm-smoke-dev"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lgtm_refstack", description=__doc__.split("\n")[0])
    p.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]", help="inject a named fault")
    p.add_argument("--list-faults", action="store_true", help="list the known faults and exit")
    p.add_argument("--tenant", default=DEV_TENANT, help="the tenant Grafana's datasources send")
    return p


def _paste_lines(stack, tenant: str) -> list[str]:
    """What a person pastes into a shell to run the smoke suite against `stack`, green as
    printed: every option the stack says a run needs (`suite_args`: the plain-HTTP listener, the
    CA, the listener rules, no AWS behind it), the secrets among them exported from files in the
    stack's workdir (0600), so that their values are never printed."""
    secrets = {"LGTM_GRAFANA_PASSWORD": stack.grafana_password, "LGTM_EDGE_SECRET": stack.edge_secret}
    lines = ["to run the smoke suite against it (no AWS account behind it: --skip-aws), paste:"]
    for var, value in secrets.items():
        path = stack.workdir / var.lower()
        path.touch(mode=0o600)
        path.write_text(value)
        lines.append(f'  export {var}="$(cat {shlex.quote(str(path))})"')
    options = [arg for arg in stack.suite_args() if arg.partition("=")[2] not in secrets.values()]
    lines.append("  pytest -m smoke " + shlex.join(["--alb", stack.url, "--tenant", tenant, *options]))
    return lines


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_faults:
        from .faults import KNOWN

        for name, (takes_value, text) in sorted(KNOWN.items()):
            print(f"{name + ('=VALUE' if takes_value else ''):32} {text}")
        return 0
    from .faults import FaultError
    from .nginx import ServiceStartError
    from .stack import ReferenceStack

    try:
        stack = ReferenceStack(args.fault, tenants=(args.tenant,), tls=True).start()
    except (FaultError, ServiceStartError, ValueError) as e:
        print(f"lgtm-refstack: error: {'--fault: ' if isinstance(e, FaultError) else 'did not start: '}{e}",
              file=sys.stderr)
        return USAGE_ERROR
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        print(f"reference stack up in {stack.started_in:.2f}s", flush=True)
        print(f"ALB: {stack.url}")
        if stack.ca_bundle:
            print(f"plain HTTP: {stack.http_url} (redirects to HTTPS); CA: {stack.ca_bundle}")
        if stack.faults:
            print(f"faults: {', '.join(stack.faults.describe())}")
        print(f"tenant: {args.tenant} (the one Grafana's datasources send)")
        for line in _paste_lines(stack, args.tenant):
            print(line)
        print("Ctrl-C stops the stack", flush=True)
        # Woken twice a second, never a bare wait(): a signal the kernel hands to one of the stack's
        # threads runs its handler only when the main thread wakes, and a bare wait never does
        # (a Ctrl-C right after start was lost about one time in three).
        while not stop.wait(0.5):
            pass
    finally:
        stack.stop()
        print("reference stack stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
