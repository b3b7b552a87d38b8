"""Everything a run needs to know, resolved once: option > environment > the stack's own
tfvars > built-in default. Bad input becomes a `UsageError` with one line that says
what to fix.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

TFVARS_RELATIVE = Path("infra/terraform/environments/prod/common.tfvars")


class UsageError(pytest.UsageError):
    """Bad user input; the message is one line that says what to fix (pytest: exit 4)."""


@dataclass(frozen=True)
class Alb:
    """Where the ALB is: scheme, host, port and an optional path prefix."""

    scheme: str
    host: str
    port: int | None
    prefix: str  # "" or "/something", never a trailing slash

    @property
    def base_url(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{self.host}{port}{self.prefix}"

    def url(self, path: str) -> str:
        return self.base_url + path


def parse_alb(value: str | None, source: str = "--alb") -> Alb:
    example = "e.g. --alb lgtm-prod-alb-123.ap-northeast-2.elb.amazonaws.com or --alb http://127.0.0.1:8080"
    raw = (value or "").strip()
    if not raw:
        raise UsageError(f"{source} is empty: pass the ALB DNS name, {example}")
    if "://" not in raw:
        raw = "http://" + raw
    if "@" in raw.split("://", 1)[1].split("/", 1)[0]:  # user:password@host: never echo it back
        raise UsageError(f"{source} must not carry credentials (user:password@): remove them, {example}")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as e:
        raise UsageError(f"{source} {value!r} is not a valid address ({e}): {example}") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{source} {value!r}: scheme must be http or https, {example}")
    host = parts.hostname or ""
    if not host or any(c in host for c in " /\\@"):
        raise UsageError(f"{source} {value!r} has no valid host name, {example}")
    if parts.query or parts.fragment:
        raise UsageError(f"{source} {value!r} must not carry a query or fragment, {example}")
    return Alb(parts.scheme, host, port, parts.path.rstrip("/"))


def parse_timeout(value, source: str = "--readback-timeout") -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{source} {value!r} is not a number of seconds, e.g. {source} 30") from None
    if not seconds > 0 or seconds > 3600:
        raise UsageError(f"{source} {value!r} must be between 0 and 3600 seconds, e.g. {source} 30")
    return seconds


def parse_tenant(value: str | None, source: str) -> str:
    tenant = (value or "").strip()
    # Mimir/Loki/Tempo reject tenant ids that are too long or hold path-unsafe characters.
    if not tenant:
        raise UsageError("no tenant: pass --tenant (or set LGTM_TENANT) with the X-Scope-OrgID your stack uses, "
                         "e.g. --tenant jsj-lgtm-header")
    if len(tenant) > 150 or tenant in (".", "..") or any(c in tenant for c in "/\\|\n\r\t ") or not tenant.isprintable():
        raise UsageError(f"tenant {tenant!r} from {source} is not a valid X-Scope-OrgID (≤150 chars, no '/', '|' or spaces)")
    return tenant


def new_run_id() -> str:
    """12 hex digits: 48 bits, so the id also fits exactly into a float64 sample value."""
    return secrets.token_hex(6)


def parse_run_id(value: str) -> str:
    rid = value.strip().lower()
    if len(rid) != 12 or any(c not in "0123456789abcdef" for c in rid):
        raise UsageError(f"--run-id {value!r} must be 12 hex digits, e.g. --run-id {new_run_id()}")
    return rid


def find_tfvars(explicit: str | None, start: Path | None = None) -> Path | None:
    """--tfvars / LGTM_TFVARS, else infra/.../common.tfvars in this directory or a parent."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise UsageError(f"--tfvars {explicit}: no such file; pass the stack's common.tfvars or leave it out")
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / TFVARS_RELATIVE
        if candidate.is_file():
            return candidate
    return None


def load_tfvars(path: Path | None) -> dict:
    if path is None:
        return {}
    import hcl2  # lazy: a second or so on the very first parse (grammar cache)

    try:
        with open(path) as f:
            return hcl2.load(f, serialization_options=hcl2.SerializationOptions(
                strip_string_quotes=True, explicit_blocks=False, with_comments=False))
    except OSError as e:
        raise UsageError(f"cannot read tfvars {path}: {e.strerror}; fix its permissions or pass --tfvars") from None
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"tfvars {path} is not valid HCL ({first}); fix it or pass --tfvars") from None


@dataclass(frozen=True)
class SmokeConfig:
    alb: Alb
    tenant: str
    readback_timeout: float
    run_id: str
    search_timeout: float = 60.0  # TraceQL search covers completed traces only: it lags by design
    other_tenant: str = "lgtm-smoke-isolation-probe"
    tfvars_path: Path | None = None
    tfvars: dict = field(default_factory=dict, repr=False)
    extra: dict = field(default_factory=dict, repr=False)  # suite-specific settings

    def describe(self) -> str:
        return f"ALB {self.alb.base_url} · tenant {self.tenant} · run {self.run_id}"


def env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None
