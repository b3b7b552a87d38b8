"""The exposure catalogue: derived from upstream at the pinned versions (with file:line), kept
in step with common.tfvars, and the probes it allows are harmless on every backend."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lgtm_smoke.backends.alb import catalogue
from lgtm_smoke.data import routes

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "exposure_catalogue.py"
MIRRORS = Path("/work/.mirror")
ALLOWLIST = Path(__file__).with_name("routes_allowlist.json")


def _tool():
    spec = importlib.util.spec_from_file_location("exposure_catalogue", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_catalogue_versions_are_the_versions_pinned_in_common_tfvars():
    """Fails when image_versions changes and the catalogue was not regenerated."""
    pins = _tool().pinned_versions()
    cat = catalogue.load()
    stale = {b: (entry["version"], pins[b]) for b, entry in cat["backends"].items() if entry["version"] != pins[b]}
    assert not stale, (
        "exposure catalogue is stale (catalogue, common.tfvars): "
        + repr(stale)
        + "; regenerate: python tools/exposure_catalogue.py --mirror <backend>=<git dir> ..."
    )


def test_pin_check_notices_a_bumped_version(tmp_path):
    tfvars = tmp_path / "common.tfvars"
    tfvars.write_text('image_versions = {\n  tempo = "2.9.1"\n  loki = "3.6.0"\n}\n')
    assert _tool().pinned_versions(tfvars) == {"tempo": "2.9.1", "loki": "3.6.0"}
    assert catalogue.load()["backends"]["tempo"]["version"] != "2.9.1"


def test_every_route_says_where_it_comes_from_and_what_it_does():
    cat = catalogue.load()
    assert cat["prefixes"] == ["/", "/loki/", "/prometheus/", "/tempo/", "/pyroscope/"]
    for name, entry in cat["backends"].items():
        assert entry["routes"], name
        for r in entry["routes"]:
            assert r["does"] and r["kind"] in {
                "admin",
                "config",
                "delete",
                "flush",
                "metrics",
                "pprof",
                "ring",
                "shutdown",
                "status",
            }, r
            if name != "grafana":
                assert re.search(r"\.go:\d+", r["source"]), r
            assert r["changes_state"] in (True, False) or set(r["changes_state"].split(",")) <= set(catalogue.ANY_METHODS)


def test_the_issue_routes_are_there_with_their_upstream_lines():
    by = {b: {r["path"]: r for r in e["routes"]} for b, e in catalogue.load()["backends"].items()}
    tempo = by["tempo"]
    assert (tempo["/flush"]["methods"], tempo["/flush"]["changes_state"]) == ("any", True)
    assert tempo["/flush"]["source"] == "cmd/tempo/app/modules.go:332"
    assert tempo["/shutdown"]["source"] == "cmd/tempo/app/modules.go:333"
    for path in ("/metrics", "/status/config", "/debug/pprof"):
        assert path in tempo
    assert by["loki"]["/flush"]["changes_state"] is True and by["mimir"]["/ingester/shutdown"]["changes_state"] is True
    assert by["loki"]["/loki/api/v1/delete"]["changes_state"] == "DELETE,POST,PUT"
    assert by["pyroscope"]["/ingester.v1.IngesterService/Flush"]["changes_state"] is True
    assert by["grafana"]["/api/admin/users"]["changes_state"] == "POST"


def test_probe_paths_never_reach_a_state_changing_or_costly_route_anywhere():
    """Cross-checked against the independent recording of real backends (admin-routes.json,
    other patch versions): nothing the suite requests is a route that acts, on any backend."""
    recorded = json.loads((REPO.parent / "shared" / "contracts" / "admin-routes.json").read_text())["backends"]
    acting = [r for b in recorded.values() for r in b["routes"] if r["changes_state"]]
    probes = catalogue.harmless_probes()
    assert 20 <= len(probes) <= 100
    for path in probes:
        for prefix in ("", "/loki", "/prometheus", "/tempo", "/pyroscope"):
            seen = path[len(prefix) :] if prefix and path.startswith(prefix + "/") else path
            for r in acting:
                assert not catalogue.registered({"path": r["path"], "prefix": r["path"].endswith("/")}, seen), (path, r)
            assert "/profile" not in seen and "/trace" not in seen and "fgprof" not in seen
    for dangerous in ("/tempo/shutdown", "/tempo/flush", "/flush", "/shutdown", "/ingester/shutdown", "/loki/flush"):
        assert not catalogue.harmless(dangerous), dangerous


def test_exposures_name_the_public_path_rule_target_group_and_what_the_route_does():
    """The pre-allow-list table (/tempo/* rewritten to Tempo) shows the issue's hole."""
    legacy = routes.load(REPO / "tests" / "alb" / "routes_legacy.json")
    rules = routes.describe_rules(legacy, [])
    found = catalogue.exposures(rules, "tempo", legacy.target_groups, None)
    lines = {e.public_path: e.line() for e in found}
    assert lines["/tempo/shutdown"].startswith(
        "/tempo/shutdown → tempo as /shutdown (rule 31, target group tempo, GET anonymously): any method stops the component"
    )
    assert lines["/tempo/shutdown"].endswith("[cmd/tempo/app/modules.go:333 @ 2.9.0]")
    assert {"/tempo/metrics", "/tempo/status/config", "/tempo/debug/pprof/"} <= set(lines)
    assert found[0].route["changes_state"]  # the state-changing ones lead


def test_the_allow_list_exposes_nothing_anonymously_or_with_the_secret():
    table = routes.load(ALLOWLIST)
    rules = routes.describe_rules(table, ["secret"])
    for backend in catalogue.BACKENDS:
        assert catalogue.exposures(rules, backend, table.target_groups, table.edge_header) == [], backend


def test_regeneration_stops_on_a_route_nobody_classified():
    tool = _tool()
    with pytest.raises(SystemExit, match="(?s)unclassified exposure routes.*/debug/brand-new-thing"):
        tool.catalogue_routes([{"path": "/debug/brand-new-thing", "methods": "any", "prefix": False, "source": "x.go:1"}])


@pytest.mark.skipif(not (MIRRORS / "grafana+tempo" / "repo").is_dir(), reason="needs the fetched upstream mirrors")
def test_catalogue_is_what_the_script_derives_from_the_upstream_trees():
    args = [f"--mirror={n}={MIRRORS / ('grafana+' + n)}/repo" for n in ("loki", "tempo", "pyroscope", "dskit")]
    done = subprocess.run([sys.executable, str(TOOL), "--check", *args], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
