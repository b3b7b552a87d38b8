"""Every check of the ALB itself: admin/debug routes closed (proven from the listener rules,
nothing sent), unknown paths answered by the ALB's fixed 404, plain HTTP redirected to HTTPS,
and per backend an unauthenticated write and read refused by the edge-auth rule.

The suite never harms the stack: a catalogue route is never requested unless a GET of it is
harmless on every backend at every pinned version (catalogue.harmless); the edge-auth probes
send bodies every backend rejects (or read queries), so even a wrongly open route changes
nothing. The edge secret is never sent by those probes and never printed.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...data import routes
from ...outcome import Blocked, Check, CheckFailed
from . import catalogue

AREA = "alb"
EVIDENCE_LINES = 25

# Per backend, the unauthenticated probes: a write whose body the backend rejects even if the
# ALB forwarded it, and a read query. (method, path, body, headers, params)
EDGE_PROBES: dict[str, dict[str, tuple]] = {
    "mimir": {
        "write": (
            "POST",
            "/api/v1/push",
            b"not snappy",
            {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"},
            None,
        ),
        "read": ("GET", "/prometheus/api/v1/query", None, {}, {"query": "vector(1)"}),
    },
    "loki": {
        "write": ("POST", "/loki/api/v1/push", b'{"streams": [{"stream": ', {"Content-Type": "application/json"}, None),
        "read": ("GET", "/loki/api/v1/labels", None, {}, None),
    },
    "tempo": {
        "write": ("POST", "/v1/traces", b"not protobuf", {"Content-Type": "application/x-protobuf"}, None),
        "read": ("GET", "/tempo/api/search", None, {}, {"limit": "1"}),
    },
    "pyroscope": {
        "write": (
            "POST",
            "/push.v1.PusherService/Push",
            b"\xff not protobuf",
            {"Content-Type": "application/proto"},
            None,
        ),
        "read": ("POST", "/querier.v1.QuerierService/ProfileTypes", b"{}", {"Content-Type": "application/json"}, None),
    },
}
# The authenticated half: these round-trip checks push and read back with the secret.
ROUND_TRIPS = {
    "mimir": "mimir.remote_write",
    "loki": "loki.push_json",
    "tempo": "tempo.trace",
    "pyroscope": "pyroscope.ingest",
}


def _table() -> routes.RouteTable:
    return routes.load()


def _load_rules(path: Path) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise CheckFailed(
            f"--listener-rules {path}: cannot read it as JSON ({e}); pass the file the reference "
            "stack writes or a DescribeRules `Rules` dump"
        ) from None
    rules = data.get("Rules") if isinstance(data, dict) else data
    if not isinstance(rules, list) or not any(r.get("IsDefault") or r.get("Priority") == "default" for r in rules):
        raise CheckFailed(f"--listener-rules {path}: not a DescribeRules `Rules` list with its default rule")
    return rules


def listener_rules(ctx: Any) -> tuple[list[dict], str]:
    """The rules listener's rules and where they came from: --listener-rules, else the AWS
    snapshot's DescribeRules of the listener on routes.json's rules_listener port."""
    path = getattr(ctx.settings, "listener_rules", None)
    if path:
        return _load_rules(path), f"--listener-rules {path}"
    snapshot = getattr(ctx, "aws", None)  # the run's lgtm_smoke.aws Snapshot; None with --skip-aws
    if snapshot is not None:
        table = _table()
        port = table.listener_port
        try:
            listeners = snapshot.need("alb.listeners") or []
            listener = next((x for x in listeners if int(x.get("Port", 0)) == port), None)
            if listener is None:
                raise CheckFailed(
                    f"the ALB has no listener on port {port} (routes.json rules_listener "
                    f"{table.rules_listener!r}); listeners: {sorted(int(x.get('Port', 0)) for x in listeners)}"
                )
            rules = (snapshot.need("alb.rules") or {}).get(listener["ListenerArn"])
        except (Blocked, CheckFailed):
            raise
        except Exception as e:  # noqa: BLE001 — the snapshot's Missing: that fact could not be fetched
            raise CheckFailed(f"cannot evaluate the listener rules: {e}") from None
        if isinstance(rules, list):
            return rules, f"DescribeRules on the port-{port} listener"
        raise CheckFailed(f"cannot evaluate the listener rules: DescribeRules of the port-{port} listener: {rules}")
    raise Blocked(
        "alb.listener_rules",
        "no listener rules to evaluate with --skip-aws: pass --listener-rules FILE (a DescribeRules `Rules` dump)",
    )


# --- admin routes closed, proven from the rules -----------------------------------------------


def _closed(backend: str):
    def fn(ctx: Any) -> dict:
        rules, source = listener_rules(ctx)
        table = _table()
        found = catalogue.exposures(rules, backend, table.target_groups, table.edge_header)
        entry = catalogue.load()["backends"][backend]
        evaluated = len(entry["routes"]) * len(catalogue.load()["prefixes"])
        if found:
            lines = [e.line() for e in found]
            more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
            raise CheckFailed(
                f"{backend} admin route open through the ALB: {lines[0]}{more}",
                [
                    f"rules from {source}",
                    *lines[1:EVIDENCE_LINES],
                    *([f"… {len(lines) - EVIDENCE_LINES} more"] if len(lines) > EVIDENCE_LINES else []),
                ],
            )
        return {
            "backend": backend,
            "version": entry["version"],
            "routes": len(entry["routes"]),
            "public_paths_evaluated": evaluated,
            "rules_from": source,
            "open": [],
        }

    fn.__doc__ = (
        f"Every {backend} catalogue route, at every public prefix, with every method it is registered "
        "for, anonymously and with the edge secret, is evaluated against the listener rules: none may "
        f"reach {backend} at a path {backend} routes to it. Nothing is sent."
    )
    return fn


closed = {b: Check(f"alb.{b}_admin_closed", AREA, _closed(b), runbook="alb.admin_closed") for b in catalogue.BACKENDS}


# --- unknown paths get the ALB's fixed 404 ------------------------------------------------------


def _unknown_paths(ctx: Any) -> dict:
    table = _table()
    want = table.default.fixed
    if want is None:
        raise CheckFailed(
            "routes.json default_action is 'forward', not a fixed response: every path no rule allows reaches a backend"
        )
    status, body = want.status, want.body
    # Paths routes.json allows (e.g. /api/* → Grafana) are the target group's to answer; the
    # admin-routes checks judge whether that forwarding is safe. The rest must never leave the ALB.
    allowed = [p for p in catalogue.harmless_probes() if table.route(p) is not None]
    paths = [p for p in catalogue.harmless_probes() if table.route(p) is None]

    def probe(path: str):
        # GET only, no tenant, no body: harmless on every backend (catalogue.harmless).
        return path, ctx.client.send_once("GET", path, tenant=None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(probe, paths))
    wrong = [(p, ex) for p, ex in answers if not (ex.status == status and ex.text.strip() == body.strip())]
    if wrong:
        lines = [f"GET {p} → {ex.status}: {ex.preview(100)}" for p, ex in wrong]
        p, ex = wrong[0]
        raise CheckFailed(
            f"GET {p} → {ex.status} {ex.preview(80)}: not the ALB's own fixed {status} — the ALB forwards "
            f"paths routes.json does not allow ({len(wrong)} of {len(paths)} probe paths)",
            lines[1:EVIDENCE_LINES],
        )
    return {"probed": len(paths), "status": status, "paths": paths, "allowed_by_routes_json": allowed}


unknown_paths = Check(
    "alb.unknown_paths_fixed_404",
    AREA,
    _unknown_paths,
    needs=("alb",),
    doc="Harmless admin paths (GET, no tenant) get the ALB's own fixed 404.",
)


# --- plain HTTP redirects to HTTPS -------------------------------------------------------------

REDIRECT_PROBE = "/loki/api/v1/labels?lgtm-smoke=redirect"


def http_url(ctx: Any) -> str:
    """The plain-HTTP listener: --alb-http when the stack says where (the reference stack),
    else the ALB's host on routes.json's http listener port."""
    explicit = getattr(ctx.settings, "alb_http", None)
    if explicit:
        return str(explicit).rstrip("/")
    table = _table()
    port = int(table.listeners.get("http", {}).get("port", 80))
    return f"http://{ctx.settings.alb.host}" + ("" if port == 80 else f":{port}")


def _redirects(ctx: Any) -> dict:
    table = _table()
    if "http" not in table.listeners or table.listeners["http"].get("redirect_to") != "https":
        raise CheckFailed("routes.json: the http listener does not redirect to https (listeners.http.redirect_to)")
    base = http_url(ctx)
    url = base + REDIRECT_PROBE
    import requests

    try:  # one plain-HTTP GET of a read path, no tenant, no secret: harmless wherever it lands
        r = requests.get(url, allow_redirects=False, timeout=(3.05, 10), headers={"User-Agent": "lgtm-smoke"})
    except requests.RequestException as e:
        raise CheckFailed(
            f"GET {url}: no answer from the plain-HTTP listener ({type(e).__name__}): is port "
            f"{urlsplit(base).port or 80} open for the redirect?"
        ) from None
    location = r.headers.get("Location", "")
    if r.status_code not in (301, 308):
        raise CheckFailed(
            f"GET {url} → {r.status_code}, expected a 301/308 redirect to https: plain HTTP is served "
            "(credentials and tenant data in clear text) — set the http listener's redirect action",
            [f"response body: {r.text[:200]!r}"],
        )
    loc = urlsplit(location)
    want_port = int(table.listeners.get("https", {}).get("port", 443))
    alb = ctx.settings.alb
    https_port = alb.port if alb.scheme == "https" and alb.port else want_port
    problems = []
    if loc.scheme != "https":
        problems.append(f"scheme {loc.scheme or '(none)'}")
    if (loc.hostname or "").lower() != (urlsplit(base).hostname or "").lower():
        problems.append(f"host {loc.hostname}")
    if (loc.port or 443) != https_port:
        problems.append(f"port {loc.port or 443} (HTTPS listener is {https_port})")
    if f"{loc.path}?{loc.query}" != REDIRECT_PROBE:
        problems.append(f"path {loc.path}?{loc.query}")
    if problems:
        raise CheckFailed(
            f"GET {url} → {r.status_code} Location {location}: wrong {', '.join(problems)}; expected "
            f"https://{urlsplit(base).hostname}{REDIRECT_PROBE} (same host and path)"
        )
    return {"status": r.status_code, "location": location}


http_redirect = Check(
    "alb.http_redirects_to_https",
    AREA,
    _redirects,
    needs=("alb",),
    doc="Plain HTTP answers 301/308 to https on the same host and path.",
)


# --- unauthenticated write and read refused at the ALB ------------------------------------------


def _edge_auth(backend: str):
    def fn(ctx: Any) -> dict:
        table = _table()
        header, refusal = table.edge_header, table.unauthenticated
        if not header:
            raise CheckFailed("routes.json has no edge_auth: anyone on the internet can write to and read any tenant")
        out: dict[str, Any] = {"backend": backend, "header": header, "authenticated_proof": ROUND_TRIPS[backend]}
        for kind, (method, path, body, headers, params) in EDGE_PROBES[backend].items():
            rule = table.route(path)
            if rule is None or not rule.forwards or not rule.edge_auth:
                raise CheckFailed(
                    f"routes.json: {path} ({backend} {kind}) is "
                    + ("not allowed at all" if rule is None else f"in rule {rule.name} without edge_auth")
                    + ": an unauthenticated client's path must require the edge secret"
                )
            ex = ctx.client.send_once(method, path, data=body, headers=headers, params=params, edge_auth=False)
            if ex.status == refusal.status and ex.text.strip() == refusal.body.strip():
                out[kind] = {"path": path, "status": ex.status, "refused_by": "alb edge-auth rule"}
                continue
            default = table.default.fixed
            if default is not None and ex.status == default.status and ex.text.strip() == default.body.strip():
                # not routed at all: the target group's precondition (and its round trips) say why
                raise Blocked(
                    f"target_group.{rule.target_group}",
                    f"{method} {path} → {ex.status}: the ALB's default 404 — the path is not routed at all",
                )
            fate = (
                "served by the backend: anyone on the internet can "
                + ("write to" if kind == "write" else "read")
                + f" tenant {ctx.tenant!r}"
                if ex.status < 400
                else f"rejected by {backend} itself, not the ALB: the ALB forwards it without {header}"
            )
            raise CheckFailed(
                f"unauthenticated {backend} {kind} {method} {path} (no {header}) → {ex.status} "
                f"{ex.preview(80)}: forwarded and {fate}",
                [f"expected the ALB's {refusal.status} {refusal.body!r}"],
            )
        return out

    fn.__doc__ = (
        f"An unauthenticated {backend} write (a body {backend} rejects) and read from outside get the "
        f"ALB's edge-auth refusal; the authenticated half is {ROUND_TRIPS[backend]}."
    )
    return fn


edge_auth = {b: Check(f"alb.{b}_edge_auth", AREA, _edge_auth(b), needs=("alb",), runbook="alb.edge_auth") for b in EDGE_PROBES}

ALL = [*closed.values(), unknown_paths, http_redirect, *edge_auth.values()]
