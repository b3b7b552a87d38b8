"""Every setting of a run, resolved once by one resolver: option > environment > the
stack's own tfvars > built-in default (pytest-base-url style). Bad input becomes a
`UsageError` with one line that says what to fix (pytest exits 4).

The option dests are a contract other rooms code against: `alb`, `tenant`, `grafana_user`,
`grafana_password`, `ca_bundle`, `insecure`, `edge_secret`, `listener_rules`, `skip_aws`,
`aws_endpoint_url` and the `aws_*` dests. A plugin that brings its own stack (the
reference stack's `--devstack`) sets `config.option.<dest>`; an option beats the
environment, so the stack's own values always win.

Secrets (Grafana password, edge secret) are `Secret`s: no repr, str, pickle or report shows
them, and `lgtm_smoke.http.redact` removes them from any text the suite prints.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NoReturn
from urllib.parse import urlsplit

import pytest

TFVARS_RELATIVE = Path("infra/terraform/environments/prod/common.tfvars")


# Bad user input; the message is one line that says what to fix (pytest: exit 4).
UsageError = pytest.UsageError


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


def parse_timeout(value: Any, source: str = "--readback-timeout") -> float:
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


def parse_choice(value: Any, dest: str, source: str) -> str:
    """`value` if the option `dest` takes it (its choices in options.json), else a UsageError."""
    choices = options()[dest].choices or ()
    if value not in choices:
        raise UsageError(f"{source} {value!r} must be one of: {', '.join(choices)}")
    return str(value)
# PutMetricData's Namespace (botocore model): 1-255 ASCII characters, no control characters,
# not starting with ":" (pattern `[^:].*`), and "you should not specify a namespace that begins
# with AWS/". moto accepts anything, so the check is ours.
NAMESPACE_RE = re.compile(r"^[\x20-\x39\x3b-\x7e][\x20-\x7e]{0,254}$")
PUBLISH_SOURCES = ("deploy", "canary")  # the Source dimension of --publish-cloudwatch; deploy alarms watch "deploy"


def parse_namespace(value: str | None, source: str = "--cloudwatch-namespace") -> str:
    namespace = (value or "").strip()
    if not NAMESPACE_RE.match(namespace) or namespace.startswith("AWS/"):
        raise UsageError(f"{source} {value!r} is not a namespace of ours: 1-255 printable ASCII characters, not "
                         "starting with ':' or AWS/, e.g. LGTM/Smoke")
    return namespace


def parse_publish_source(value: str | None, source: str = "--publish-source") -> str:
    if value not in PUBLISH_SOURCES:
        raise UsageError(f"{source} {value!r}: pass one of {', '.join(PUBLISH_SOURCES)} (the deploy alarms watch only "
                         "'deploy')")
    return value


def new_run_id() -> str:
    """12 hex digits: 48 bits, so the id also fits exactly into a float64 sample value."""
    import secrets

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


def load_tfvars(path: Path | None) -> dict[str, Any]:
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


def env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


# --- secrets ------------------------------------------------------------------------------
_KNOWN_SECRETS: set[str] = set()


class Secret:
    """A value that is never shown: not in repr/str, not pickled, not copied; every text the
    suite prints passes through `redact`, which knows every Secret made in this process."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        if len(value) >= 4:  # shorter values would redact ordinary words
            _KNOWN_SECRETS.add(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:  # no pickling the secret into caches or reports
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> "Secret":
        return self

    def __deepcopy__(self, memo: dict[str, Any]) -> "Secret":
        return self


def redact(text: str) -> str:
    """`text` with every known secret replaced by ***."""
    for value in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return text


# --- the options --------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    flag: str
    dest: str
    help: str
    env: str | None = None
    tfvars: str | None = None  # key in common.tfvars
    default: Any = None
    flag_only: bool = False  # store_true
    metavar: str | None = None
    choices: tuple[str, ...] | None = None  # the only values it takes (a pushed label: bounded)
    group: str = "lgtm-smoke"


@functools.cache
def options() -> dict[str, Option]:
    """lgtm_smoke/data/options.json by dest: every flag, dest, env variable and tfvars key
    (read on first use: a pytest run that never asks pays nothing)."""
    import json
    from importlib import resources

    data = json.loads((resources.files("lgtm_smoke") / "data" / "options.json").read_text())
    made = (Option(**{**o, "group": "lgtm-smoke-aws" if o.get("group") == "aws" else "lgtm-smoke",
                      "choices": tuple(o["choices"]) if "choices" in o else None})
            for o in data["options"])
    return {o.dest: o for o in made}


TRUE = ("1", "true", "yes", "on")


def add_options(parser: pytest.Parser) -> None:
    groups = {"lgtm-smoke": parser.getgroup("lgtm-smoke", "LGTM stack smoke tests"),
              "lgtm-smoke-aws": parser.getgroup("lgtm-smoke-aws", "LGTM stack AWS checks (marker aws; defaults "
                                                                  "from common.tfvars)")}
    for o in options().values():
        where = [f"env {o.env}"] if o.env else []
        where += [f"default {o.tfvars} in tfvars"] if o.tfvars else []
        where += [f"default {o.default}"] if o.default not in (None, False) else []
        text = o.help + (f" ({'; '.join(where)})" if where else "")
        if o.flag_only:
            groups[o.group].addoption(o.flag, dest=o.dest, action="store_true", default=False, help=text)
        else:
            groups[o.group].addoption(o.flag, dest=o.dest, metavar=o.metavar, choices=o.choices, help=text)


def pick(config: pytest.Config, dest: str, tfvars: dict[str, Any] | None = None, tfvars_path: Path | None = None
         ) -> tuple[Any, str | None]:
    """The one resolver: (value, where it came from) — option > environment > tfvars > default."""
    o = options()[dest]
    value = config.getoption(dest, None)
    if value not in (None, "", False):
        return value, o.flag
    if o.env and env(o.env) is not None:
        raw = os.environ[o.env]
        return (raw.lower() in TRUE if o.flag_only else raw), o.env
    if o.tfvars and tfvars and tfvars.get(o.tfvars) not in (None, ""):
        return str(tfvars[o.tfvars]), f"{o.tfvars} in {tfvars_path}"
    return o.default, None


# --- the resolved settings ----------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    alb: Alb
    tenant: str
    readback_timeout: float
    run_id: str
    search_timeout: float = 60.0  # TraceQL search covers completed traces only: it lags by design
    wait_all: bool = False  # wait for every read-back even when the verdict is already red
    other_tenant: str = "lgtm-smoke-isolation-probe"
    tfvars_path: Path | None = None
    tfvars: dict[str, Any] = field(default_factory=dict, repr=False)
    grafana_user: str = "admin"
    grafana_password: Secret | None = field(default=None, repr=False)
    grafana_password_source: str | None = None  # the option or env name, never the value
    ca_bundle: str | None = None
    insecure: bool = False
    edge_secret: Secret | None = field(default=None, repr=False)
    listener_rules: Path | None = None
    alb_http: str | None = None  # the plain-HTTP listener (the redirect check); None: the ALB host, port 80
    summary_md: str | None = None
    report_json: str | None = None
    push_results: bool = False
    push_source: str = "gate"  # the `source` label of the pushed series: gate | canary (options.json choices)
    publish_cloudwatch: bool = False  # the verdict per ECS service into CloudWatch (verdict/cloudwatch.py)
    cloudwatch_namespace: str = "LGTM/Smoke"
    publish_source: str = "deploy"  # the Source dimension: deploy (the deploy alarms' series) or canary
    sources: dict[str, Any] = field(default_factory=dict, repr=False)  # setting -> where its value came from

    @property
    def verify(self) -> bool | str:
        """What requests' `verify` gets: the CA bundle, the system store, or False (--insecure)."""
        return False if self.insecure else (self.ca_bundle or True)

    def describe(self) -> str:
        tls = ""
        if self.alb.scheme == "https":
            tls = " · TLS NOT VERIFIED (--insecure)" if self.insecure else \
                f" · TLS verified ({'--ca-bundle ' + self.ca_bundle if self.ca_bundle else 'system CAs'})"
        return f"ALB {self.alb.base_url} · tenant {self.tenant} · run {self.run_id}{tls}"


SmokeConfig = Settings  # the name the AWS room's fixtures still use
SETTINGS_KEY = pytest.StashKey[Settings]()


def get(config: pytest.Config) -> Settings:
    """The run's settings, resolved once (UsageError on bad input)."""
    if SETTINGS_KEY not in config.stash:
        config.stash[SETTINGS_KEY] = resolve(config)
    return config.stash[SETTINGS_KEY]


def resolve(config: pytest.Config) -> Settings:
    """Options > environment > tfvars > defaults; UsageError (exit 4) on bad input."""
    tfvars_raw, _ = pick(config, "tfvars")
    tfvars_path = find_tfvars(tfvars_raw, Path(str(config.invocation_params.dir)))
    tfvars = load_tfvars(tfvars_path)
    sources: dict[str, str | None] = {}

    def value(dest: str) -> Any:
        v, sources[dest] = pick(config, dest, tfvars, tfvars_path)
        return v

    alb_raw = value("alb")
    if not alb_raw:
        raise UsageError("smoke tests need the ALB: pass --alb <ALB DNS name> (or set LGTM_ALB), "
                         "or --devstack for the local reference stack")
    alb = parse_alb(alb_raw, sources["alb"] or "--alb")
    check_resolves(alb)
    tenant_raw = value("tenant")
    if not tenant_raw and config.getoption("devstack", False):
        tenant_raw, sources["tenant"] = "lgtm-smoke-dev", "--devstack default"
    tenant = parse_tenant(tenant_raw, sources["tenant"] or "--tenant")
    timeout = parse_timeout(value("readback_timeout"), sources["readback_timeout"] or "--readback-timeout")
    search_raw = value("search_timeout")
    search_timeout = parse_timeout(search_raw, sources["search_timeout"] or "") if search_raw else max(60.0, timeout)
    run_raw = value("run_id")
    run_id = parse_run_id(run_raw) if run_raw else new_run_id()
    ca_bundle = value("ca_bundle")
    if ca_bundle and not Path(ca_bundle).is_file():
        raise UsageError(f"{sources['ca_bundle']} {ca_bundle}: no such file; pass the PEM of the CA that signed "
                         "the ALB's certificate, or --insecure")
    listener_rules = value("listener_rules")
    if listener_rules and not Path(listener_rules).is_file():
        raise UsageError(f"{sources['listener_rules']} {listener_rules}: no such file; pass a JSON file shaped "
                         "like ELBv2 DescribeRules `Rules`, or leave it out")
    password, edge = value("grafana_password"), value("edge_secret")
    namespace = parse_namespace(value("cloudwatch_namespace"), sources["cloudwatch_namespace"] or "--cloudwatch-namespace")
    publish_source = parse_publish_source(value("publish_source"), sources["publish_source"] or "--publish-source")
    return Settings(
        alb=alb, tenant=tenant, readback_timeout=timeout, search_timeout=search_timeout, run_id=run_id,
        tfvars_path=tfvars_path, tfvars=tfvars, grafana_user=value("grafana_user"),
        grafana_password=Secret(password) if password else None, grafana_password_source=sources["grafana_password"],
        ca_bundle=ca_bundle, insecure=bool(value("insecure")), edge_secret=Secret(edge) if edge else None,
        listener_rules=Path(listener_rules) if listener_rules else None, alb_http=value("alb_http"),
        summary_md=value("summary_md"),
        report_json=value("report_json"), push_results=bool(value("push_results")), wait_all=bool(value("wait_all")),
        push_source=parse_choice(value("push_source"), "push_source", sources["push_source"] or "--push-source"),
        publish_cloudwatch=bool(value("publish_cloudwatch")), cloudwatch_namespace=namespace,
        publish_source=publish_source,
        sources={k: v for k, v in sources.items() if v})


def check_resolves(alb: Alb) -> None:
    """A typo in --alb is a usage error, found once, not in every check."""
    import socket

    try:
        socket.getaddrinfo(alb.host, alb.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise UsageError(f"cannot resolve ALB host {alb.host!r}: check --alb (the ALB's DNS name from "
                         "`terraform output alb_dns_name`)") from None


# --- does this run want the shipped suite? ---------------------------------------------------
def wants_smoke(config: pytest.Config) -> bool:
    """True when the run selects smoke checks: a -m expression that needs `smoke`, or, with an
    expression neutral about it (or none), an ALB or a stack to check. `-m "not smoke"` never."""
    expr = (config.getoption("markexpr", "") or "").strip()
    if expr:
        needs = _marker_needs(expr, "smoke")
        if needs is not None:
            return needs
    return bool(config.getoption("alb", None) or env("LGTM_ALB") or config.getoption("devstack", False))


def _carries(present: set[str]) -> Callable[..., bool]:
    """A -m matcher for an item that carries exactly the markers `present`."""

    def matcher(name: str, /, **kwargs: str | int | bool | None) -> bool:
        return name in present

    return matcher


def _marker_needs(expr: str, marker: str) -> bool | None:
    """True: every item the expression selects carries `marker`; False: none does; None: either."""
    import itertools
    import re

    from _pytest.mark.expression import Expression

    try:
        compiled = Expression.compile(expr)
    except Exception:
        return None  # pytest reports the bad expression itself
    names = sorted(set(re.findall(r"[\w.\-\[\]:]+", expr)) - {"and", "or", "not", marker})[:10]
    results = {True: False, False: False}  # marker value -> the expression can be true
    for has in (True, False):
        for combo in itertools.product((True, False), repeat=len(names)):
            present = {n for n, v in zip(names, combo, strict=True) if v} | ({marker} if has else set())
            if compiled.evaluate(_carries(present)):
                results[has] = True
                break
    if results[True] and not results[False]:
        return True
    if results[False] and not results[True]:
        return False
    return None


def report_header(config: pytest.Config) -> list[str]:
    s = config.stash.get(SETTINGS_KEY, None)
    if s is None:
        return []
    secret = " · edge secret set (never printed)" if s.edge_secret else ""
    return [f"lgtm-smoke: {s.describe()}{secret}"]
