#!/usr/bin/env python3
"""Regenerate lgtm_smoke/backends/alb/exposure_catalogue.json from upstream source.

For Loki, Tempo, Mimir and Pyroscope at the versions pinned in
infra/terraform/environments/prod/common.tfvars (`image_versions`), this reads the HTTP
route registrations from each project's git tree at its release tag (no checkout: `git show`
on a bare mirror, e.g. the ones the `fetch` tool brings to /work/.mirror/) and keeps every
admin, debug, ring, flush, shutdown, delete, config, metrics, pprof and status route with
its file:line at that tag. Grafana's admin API comes from its published OpenAPI spec.

    python tools/exposure_catalogue.py --mirror loki=/work/.mirror/grafana+loki/repo \\
        --mirror tempo=... --mirror pyroscope=... --mirror dskit=... [--mirror mimir=...]

A backend without a mirror is taken from ../shared/contracts/admin-routes.json when that
recording was made at the pinned version (Mimir: its mirror exceeds the fetch limit here,
and admin-routes.json was recorded from the mimir-2.17.0 tree); otherwise the script stops
and says which mirror to pass. Every kept route must match a classification rule below
(what it does, whether it changes state); a new kind of route stops the script until a
person classifies it, so a version bump cannot silently add an unjudged route.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import posixpath
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "lgtm_smoke" / "backends" / "alb" / "exposure_catalogue.json"
TFVARS = ROOT / "infra" / "terraform" / "environments" / "prod" / "common.tfvars"
CONTRACT = ROOT.parent / "shared" / "contracts" / "admin-routes.json"
OPENAPI = ROOT.parent / "shared" / "contracts" / "grafana-openapi3.json"

PREFIXES = ["/", "/loki/", "/prometheus/", "/tempo/", "/pyroscope/"]

# Which registered paths are exposure routes (the categories, plus the spellings the
# backends use for them). Query/push APIs are not: they are what the allow-list forwards.
EXPOSURE = re.compile(
    r"admin|debug|ring|flush|shutdown|downscale|delete|config|metrics$|pprof|status|memberlist"
    r"|/services$|tenants|user_stats|user_limits|tenant_limits|limits$|overrides|log_level"
    r"|upload|cache/|exceeds-limits|/rules(/|$)|/api/prom/rules|^/settings\.v1\.|ha_tracker|usage|/ops/|/tsdb|blocks|analytics|/Set$|/Delete$|/Flush$",
    re.IGNORECASE,
)
NOT_EXPOSURE = re.compile(
    r"^/(api/prom|loki/api/v1)/(query|query_range|labels?|series|tail|push)\b"
    r"|/api/metrics/(query|query_range|summary)$|^/generator/api/metrics|^/api/metrics$"
    r"|/MergeProfilesPprof$"
)


class Rule(NamedTuple):
    """What a kind of exposure route is; the first rule whose pattern the path matches wins."""

    pattern: str
    kind: str
    # True: every registered method acts (GET included); False: read-only; or the methods that act
    changes_state: bool | str
    does: str
    costly: bool = False  # a GET that runs for seconds (profiling): never probed


# fmt: off
# A table, one rule a row (the first match wins), kept out of the formatter: it would spread
# each longer row over six lines.
RULES: list[Rule] = [
    Rule(r"/(shutdown)$", "shutdown", True, "stops the component: ingestion/queries fail until the task is replaced"),
    Rule(r"(/flush|/Flush)$", "flush", True, "flushes in-memory data to object storage (load spike, tiny blocks)"),
    Rule(r"prepare[-_](shutdown|partition[-_]downscale|instance-ring-downscale)|unregister-on-shutdown",
         "shutdown", "POST,PUT,DELETE", "GET reads a flag; POST/PUT/DELETE mark the instance for shutdown or downscale"),
    Rule(r"(^|/)ring$|/partition-ring$|/partition/ring$|^/ring-segment-writer$|^/metastore-nodes$|^/metastore-client-test$",
         "ring", "POST", "ring/cluster status page; POST forgets ring members or acts on the cluster"),
    Rule(r"/store-gateway/tenants$", "ring", "POST", "tenant list; POST on the same route is the ring page (forget members)"),
    Rule(r"delete_tenant$|/delete_tenant_config$", "delete", True, "deletes a tenant's data or configuration"),
    Rule(r"/loki/api/v1/delete$|/compactor/ui/api/v1/deletes$",
         "delete", "PUT,POST,DELETE", "GET lists deletion requests; POST/PUT/DELETE create or cancel log deletions"),
    Rule(r"/Delete$|/Set$|/Delete\w+Rule$|^/settings\.v1\.\w+/(Upsert|Set|Delete|Create|Update)\w*$",
         "delete", True, "changes or deletes tenant settings (connect RPC, any method)"),
    Rule(r"/upload/block/\{block\}/check$", "admin", False, "reads a block upload's state"),
    Rule(r"upload|/Upload$|/Upload/", "admin", True, "uploads blocks or profiles into a tenant's storage"),
    Rule(r"/config/v1/rules|/loki/api/v1/rules/\{namespace\}|/api/prom/rules/\{namespace\}",
         "config", "POST,DELETE", "reads rule groups; POST/DELETE create or delete them"),
    Rule(r"^/api/overrides$", "config", "POST,PATCH,DELETE", "reads user-configurable overrides; POST/PATCH/DELETE change them"),
    Rule(r"/log_level$", "config", "POST", "reads the log level; POST changes it"),
    Rule(r"/alertmanager$|^/api/v1/alerts$", "config", "POST,DELETE", "alertmanager UI/config; POST/DELETE change it"),
    Rule(r"/debug/pprof/(profile|trace)$|/debug/fgprof$",
         "pprof", False, "profiles the process for seconds (CPU cost)", costly=True),
    Rule(r"/debug/pprof", "pprof", False, "Go profiling of the process: heap contents, goroutines, command line"),
    Rule(r"metrics$", "metrics", False, "the process's own metrics: tenant ids, internal addresses, versions"),
    Rule(r"config|limits|overrides|flags", "config", False, "dumps configuration: buckets, endpoints, per-tenant limits"),
    Rule(r"/ingest-limits/exceeds-limits$", "status", False, "asks whether streams exceed limits (internal call over HTTP)"),
    Rule(r"/cache/generation_numbers$", "status", False, "cache generation numbers used by log deletion"),
    Rule(r"/GetBlockStats$", "status", False, "block statistics of a tenant (connect RPC)"),
    Rule(r"/rules(/|$)", "config", False, "lists a tenant's recording and alerting rules"),
    Rule(r"^/settings\.v1\.\w+/(Get|List)\w*$", "config", False, "reads tenant settings or rules (connect RPC)"),
    Rule(r"status|buildinfo|services|memberlist|tenants|user_stats|ha_tracker|blocks|/ops/|/tsdb|admin|usage|analytics",
         "status", False, "internal status: cluster members, tenant ids and stats, build info"),
]
# fmt: on

PLACEHOLDER_SAMPLES = {
    "tenant": "smoke-catalogue",
    "namespace": "ns1",
    "groupName": "g1",
    "block": "01J0000000000000000000000",
    "endpoint": "config",
    "gnu_build_id": "0",
    "unknown": "config",
}
HTTP_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}


class Tree:
    """One project's tree at one tag, read from a git directory without a checkout."""

    def __init__(self, git_dir: str, ref: str):
        self.git_dir, self.ref = git_dir, ref
        self.commit = self._git("rev-parse", f"{ref}^{{commit}}").strip()
        self._files = self._git("ls-tree", "-r", "--name-only", self.commit).splitlines()

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "--git-dir", self.git_dir, *args], check=True, capture_output=True, text=True).stdout

    def files(self, *globs: str) -> list[str]:
        return [f for f in self._files if any(fnmatch.fnmatch(f, g) for g in globs) and not f.endswith("_test.go")]

    def read(self, path: str) -> str:
        return self._git("show", f"{self.commit}:{path}")


CALL = re.compile(r"\b(Handle|HandleFunc|Path|PathPrefix|RegisterRoute|RegisterRouteWithMaxBodySize|RegisterRoutesWithPrefix)\(")
CONST = re.compile(r"^\s*(?:const\s+)?(\w+)\s*(?:string\s*)?=\s*(\"[^\"]*\"(?:\s*\+\s*(?:\w+|\"[^\"]*\"))*)\s*$")


def split_args(text: str) -> list[str]:
    """Top-level comma split of a call's argument text (stops at the closing paren)."""
    args, depth, cur, in_str = [], 0, "", False
    for ch in text:
        if ch == '"':
            in_str = not in_str
        if not in_str:
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    args.append(cur.strip())
                    return args
                depth -= 1
            elif ch == "," and depth == 0:
                args.append(cur.strip())
                cur = ""
                continue
        cur += ch
    args.append(cur.strip())
    return args


class Resolver:
    """Turns a Go path expression into a string using the constants and config values known."""

    def __init__(self, consts: dict[str, str], config: dict[str, str]):
        self.consts, self.config = consts, config

    def __call__(self, expr: str) -> str | None:
        expr = expr.strip().lstrip("&")
        if expr in self.config:
            return self.config[expr]
        m = re.fullmatch(r"path\.Join\((.*)\)", expr, re.DOTALL)
        if m:
            parts = [self(a) for a in split_args(m.group(1) + ")")]
            return None if None in parts else posixpath.join(*parts)
        m = re.fullmatch(r"addHTTPAPIPrefix\(&?[\w.]+,\s*(.*)\)", expr, re.DOTALL)
        if m:
            return self(m.group(1))
        pieces = [p.strip() for p in re.split(r"\+(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", expr)]
        out = ""
        for p in pieces:
            if re.fullmatch(r'"[^"]*"', p):
                out += p[1:-1]
            elif re.fullmatch(r"(\w+\.)?\w+", p) and p.split(".")[-1] in self.consts:
                out += self.consts[p.split(".")[-1]]
            else:
                return None
        return out


def collect_consts(tree: Tree, globs: list[str]) -> dict[str, str]:
    raw: dict[str, str] = {}
    for f in tree.files(*globs):
        for line in tree.read(f).splitlines():
            m = CONST.match(line)
            if m:
                raw[m.group(1)] = m.group(2)
    resolved: dict[str, str] = {}
    for _ in range(3):  # constants built from constants
        r = Resolver(resolved, {})
        for k, v in raw.items():
            val = r(v)
            if val is not None:
                resolved[k] = val
    return resolved


def scan(tree: Tree, globs: list[str], resolve: Resolver, skip: re.Pattern | None = None) -> list[dict]:
    """Every route registration in the files: path, methods, prefix flag, file:line."""
    routes = []
    for f in tree.files(*globs):
        lines = tree.read(f).splitlines()
        for i, line in enumerate(lines):
            if line.lstrip().startswith("//") or line.lstrip().startswith("func ") or (skip and skip.search(line)):
                continue
            stmt = line
            j = i
            while stmt.count("(") > stmt.count(")") and j < i + 8 and j + 1 < len(lines):
                j += 1
                stmt += " " + lines[j].strip()
            for m in CALL.finditer(line):
                args = split_args(stmt[stmt.index(m.group(0)) + len(m.group(0)) :])
                path = resolve(args[0]) if args else None
                if not path or not path.startswith("/"):
                    continue
                tail = stmt[stmt.index(m.group(0)) :]
                meth_text = tail
                mm = re.search(r"\.Methods\(([^)]*)\)", stmt)
                if mm:
                    meth_text = mm.group(1)
                elif m.group(1).startswith("Register"):
                    meth_text = ",".join(args[1:])
                else:
                    meth_text = ""
                methods = sorted(
                    {t for t in re.findall(r'"([A-Z]+)"', meth_text) if t in HTTP_METHODS}
                    | {t.upper() for t in re.findall(r"http\.Method(\w+)", meth_text)}
                )
                routes.append(
                    {
                        "path": path,
                        "methods": methods or "any",
                        "prefix": m.group(1) in ("PathPrefix", "RegisterRoutesWithPrefix"),
                        "source": f"{f}:{i + 1}",
                    }
                )
    return routes


def classify(path: str) -> Rule | None:
    return next((rule for rule in RULES if re.search(rule.pattern, path)), None)


def sample(path: str, prefix: bool) -> str:
    out = re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: PLACEHOLDER_SAMPLES.get(m.group(1), "x"), path)
    return out if not prefix or out.endswith("/") else out + "/"


# ---- per backend ---------------------------------------------------------------------------


def loki(tree: Tree, dskit: Tree | None) -> list[dict]:
    resolve = Resolver(collect_consts(tree, ["pkg/loki/*.go"]), {"t.Cfg.Server.PathPrefix": ""})
    return scan(
        tree,
        ["pkg/loki/*.go", "pkg/compactor/ui.go", "vendor/github.com/grafana/dskit/server/server.go"],
        resolve,
        skip=re.compile(r"InternalServer|router = router\.PathPrefix"),
    )


def tempo(tree: Tree, dskit: Tree | None) -> list[dict]:
    consts = collect_consts(tree, ["pkg/api/http.go", "cmd/tempo/app/*.go", "modules/*/*.go"])
    resolve = Resolver(consts, {})
    routes = scan(
        tree,
        ["cmd/tempo/app/*.go", "vendor/github.com/grafana/dskit/server/server.go"],
        resolve,
        skip=re.compile(r"InternalServer|router = router\.PathPrefix|externalServer"),
    )
    # initReadRing registers "/"+name+"/ring" for every ring it is called with.
    text = tree.read("cmd/tempo/app/modules.go").splitlines()
    handle = next(i for i, line in enumerate(text) if '"/"+name+"/ring"' in line)
    for i, line in enumerate(text):
        m = re.search(r"initReadRing\([^;]*?,\s*(\w+)\s*,", line)
        if m and m.group(1) in consts:
            routes.append(
                {
                    "path": f"/{consts[m.group(1)]}/ring",
                    "methods": "any",
                    "prefix": False,
                    "source": f"cmd/tempo/app/modules.go:{handle + 1} (via cmd/tempo/app/modules.go:{i + 1})",
                }
            )
    # /status/{endpoint}: the endpoints statusHandler serves.
    for i, line in enumerate(tree.read("cmd/tempo/app/app.go").splitlines()):
        m = re.match(r'\s*case\s+"(\w+)":', line)
        if m:
            routes.append(
                {
                    "path": f"/status/{m.group(1)}",
                    "methods": ["GET"],
                    "prefix": False,
                    "source": f"cmd/tempo/app/app.go:{i + 1}",
                }
            )
    return routes


def pyroscope(tree: Tree, dskit: Tree | None) -> list[dict]:
    resolve = Resolver(collect_consts(tree, ["pkg/api/*.go"]), {})
    routes = scan(tree, ["pkg/api/*.go", "pkg/pyroscope/*.go"], resolve, skip=re.compile(r"InternalServer"))
    if dskit is None:
        raise SystemExit("pyroscope does not vendor dskit: pass --mirror dskit=<grafana/dskit git dir>")
    for r in scan(dskit, ["server/server.go"], Resolver({}, {}), skip=re.compile(r"router = router\.PathPrefix")):
        r["source"] = f"github.com/grafana/dskit@{dskit.ref}/{r['source']}"
        routes.append(r)
    # connect RPC services mounted on the HTTP router, one route per procedure (any method).
    api = tree.read("pkg/api/api.go").splitlines()
    for i, line in enumerate(api):
        m = re.search(r"(\w+connect)\.(Register\w+Handler)\(", line)
        if not m:
            continue
        for f in tree.files(f"api/gen/proto/go/*/{m.group(1)}/*.connect.mux.go"):
            body = tree.read(f).splitlines()
            inside = False
            for k, bline in enumerate(body):
                if bline.startswith("func "):
                    inside = f"func {m.group(2)}(" in bline
                mm = re.search(r'mux\.Handle\("(/[^"]+)"', bline)
                if inside and mm:
                    routes.append(
                        {
                            "path": mm.group(1),
                            "methods": "any",
                            "prefix": False,
                            "source": f"pkg/api/api.go:{i + 1} + {f}:{k + 1}",
                        }
                    )
    # grpc-gateway routes under the /api prefix (all methods reach the gateway).
    gw = "api/gen/proto/go/status/v1/status.pb.gw.go"
    for k, line in enumerate(tree.read(gw).splitlines()):
        m = re.search(
            r"pattern_\w+\s+= runtime\.MustPattern\(runtime\.NewPattern\(\d+, \[\]int\{[^}]*\}, \[\]string\{([^}]*)\}",
            line,
        )
        if m:
            segs = re.findall(r'"([^"]*)"', m.group(1))
            routes.append({"path": "/" + "/".join(segs), "methods": "any", "prefix": False, "source": f"{gw}:{k + 1}"})
    return routes


def mimir(tree: Tree, dskit: Tree | None) -> list[dict]:
    resolve = Resolver(
        collect_consts(tree, ["pkg/api/*.go"]),
        {"a.cfg.PrometheusHTTPPrefix": "/prometheus", "a.cfg.AlertmanagerHTTPPrefix": "/alertmanager"},
    )
    return scan(
        tree,
        ["pkg/api/*.go", "pkg/mimir/*.go", "vendor/github.com/grafana/dskit/server/server.go"],
        resolve,
        skip=re.compile(r"InternalServer|router = router\.PathPrefix"),
    )


BACKENDS = {
    "loki": ("v{}", loki),
    "tempo": ("v{}", tempo),
    "mimir": ("mimir-{}", mimir),
    "pyroscope": ("v{}", pyroscope),
}


def from_contract(name: str, version: str) -> tuple[list[dict], dict]:
    data = json.loads(CONTRACT.read_text())["backends"][name]
    if data["version"] != version:
        raise SystemExit(
            f"{name} {version}: no --mirror {name}=<git dir> given and "
            f"{CONTRACT.name} was recorded at {data['version']}; fetch grafana/{name} and pass it"
        )
    routes = [
        {
            "path": r["path"].replace("{unknown}", "config"),
            "methods": r["methods"] or "any",
            "prefix": r["path"].endswith("/") and r["path"] not in ("/",),
            "source": r["source"],
        }
        for r in data["routes"]
    ]  # registered: false ones too (another config registers them)
    return routes, {
        "tag": f"mimir-{version}" if name == "mimir" else f"v{version}",
        "read_from": f"{CONTRACT.name} (recorded from the {name} {version} tree; its git mirror "
        "exceeds the fetch size limit here)",
    }


def catalogue_routes(raw: list[dict]) -> list[dict]:
    out: dict[str, dict] = {}
    unjudged = []
    for r in raw:
        path = r["path"]
        if not EXPOSURE.search(path) or NOT_EXPOSURE.search(path):
            continue
        rule = classify(path)
        if rule is None:
            unjudged.append(f"{path} ({r['source']})")
            continue
        changes = rule.changes_state
        if isinstance(changes, str) and r["methods"] != "any":
            acting = [m for m in changes.split(",") if m in r["methods"]]
            changes = ",".join(acting) if acting else False
        entry = out.setdefault(
            path,
            {
                "path": path,
                "prefix": r["prefix"],
                "methods": r["methods"],
                "kind": rule.kind,
                "changes_state": changes,
                "does": rule.does,
                "costly": rule.costly,
                "sample": sample(path, r["prefix"]),
                "source": r["source"],
            },
        )
        if entry is not None and entry["source"] != r["source"]:
            # the same path registered twice (e.g. GET and POST handlers): union methods, keep both lines
            if entry["methods"] != "any" and r["methods"] != "any":
                entry["methods"] = sorted(set(entry["methods"]) | set(r["methods"]))
            else:
                entry["methods"] = "any"
            if r["source"] not in entry["source"]:
                entry["source"] += f", {r['source']}"
            if isinstance(changes, str) and isinstance(entry["changes_state"], str):
                entry["changes_state"] = ",".join(sorted(set(entry["changes_state"].split(",")) | set(changes.split(","))))
            elif changes and not entry["changes_state"]:
                entry["changes_state"] = changes
    if unjudged:
        raise SystemExit("unclassified exposure routes (add a RULES entry saying what each does):\n  " + "\n  ".join(unjudged))
    return sorted(out.values(), key=lambda e: e["path"])


def grafana(version: str) -> dict:
    spec = json.loads(OPENAPI.read_text())
    routes = []
    for path, ops in sorted(spec["paths"].items()):
        if not path.startswith("/admin") and "/admin/" not in path:
            continue
        methods = sorted(m.upper() for m in ops if m.upper() in HTTP_METHODS)
        acting = [m for m in methods if m != "GET"]
        routes.append(
            {
                "path": "/api" + path,
                "prefix": False,
                "methods": methods,
                "kind": "admin",
                "changes_state": ",".join(acting) if acting else False,
                "does": "; ".join(sorted({ops[m.lower()].get("summary", "").strip() for m in methods} - {""}))[:160]
                or "Grafana admin API",
                "costly": False,
                "auth": "grafana-admin",
                "sample": sample("/api" + path, False),
                "source": f"{OPENAPI.name}#/paths/{path}",
            }
        )
    # served without a login by default, outside the OpenAPI spec (pkg/api/http_server.go metricsEndpoint)
    routes.append(
        {
            "path": "/metrics",
            "prefix": False,
            "methods": ["GET"],
            "kind": "metrics",
            "changes_state": False,
            "does": "Grafana's own metrics, served without login unless metrics basic auth is set",
            "costly": False,
            "auth": "none",
            "sample": "/metrics",
            "source": "Grafana docs: configure [metrics] basic_auth_username",
        }
    )
    return {
        "version": version,
        "read_from": f"{OPENAPI.name} (Grafana's published OpenAPI spec, a 10.x-era commit; "
        "the admin API is unchanged in shape at 12.x)",
        "routes": routes,
    }


def pinned_versions(tfvars: Path = TFVARS) -> dict[str, str]:
    text = tfvars.read_text()
    block = re.search(r"image_versions\s*=\s*\{(.*?)\}", text, re.DOTALL)
    if not block:
        raise SystemExit(f"{tfvars}: no image_versions map")
    return {k: v.lstrip("v") for k, v in re.findall(r'(\w+)\s*=\s*"([^"]+)"', block.group(1))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--mirror",
        action="append",
        default=[],
        metavar="NAME=GIT_DIR",
        help="git directory of grafana/<NAME> (loki, tempo, mimir, pyroscope, dskit)",
    )
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--check", action="store_true", help="exit 1 when the file on disk differs")
    args = ap.parse_args(argv)
    mirrors = dict(m.split("=", 1) for m in args.mirror)
    pins = pinned_versions()
    doc = {
        "_doc": (
            "Exposure catalogue: every admin, debug, ring, flush, shutdown, delete, config, metrics, pprof and "
            "status route the backends register at the versions pinned in common.tfvars, read from their "
            "source at the release tag (source = file:line in that tree). The ALB checks evaluate each at "
            "every public prefix against the listener rules; only routes harmless on every backend are ever "
            "requested. changes_state: true = every registered method acts (GET included), false = read-only, "
            "or the methods that act. Regenerate: python tools/exposure_catalogue.py --mirror ..."
        ),
        "pinned_in": "infra/terraform/environments/prod/common.tfvars image_versions",
        "prefixes": PREFIXES,
        "backends": {},
    }
    for name, (tag_fmt, fn) in BACKENDS.items():
        version = pins[name]
        if name in mirrors:
            tree = Tree(mirrors[name], tag_fmt.format(version))
            dskit = None
            if name == "pyroscope" and "dskit" in mirrors:
                mod = re.search(r"github\.com/grafana/dskit v\S+-([0-9a-f]{12})", tree.read("go.mod"))
                dskit = Tree(mirrors["dskit"], mod.group(1))
            raw, meta = (
                fn(tree, dskit),
                {"tag": tree.ref, "commit": tree.commit, "read_from": f"git tree of grafana/{name}"},
            )
        else:
            raw, meta = from_contract(name, version)
        doc["backends"][name] = {"version": version, **meta, "routes": catalogue_routes(raw)}
    doc["backends"]["grafana"] = grafana(pins["grafana"])
    text = json.dumps(doc, indent=1) + "\n"
    if args.check:
        same = Path(args.out).is_file() and Path(args.out).read_text() == text
        print("up to date" if same else f"{args.out} is stale: regenerate it")
        return 0 if same else 1
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    for name, b in doc["backends"].items():
        print(f"{name} {b['version']}: {len(b['routes'])} routes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
