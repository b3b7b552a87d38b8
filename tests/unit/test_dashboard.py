"""The Grafana dashboard shipped for `--push-results`: it only queries series the suite
pushes, with labels the suite sets, through the provisioned Mimir datasource."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lgtm_smoke.verdict import push as results_push

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "infra/images/grafana/dashboards/lgtm-smoke.json"
PROVIDER = ROOT / "infra/images/grafana/provisioning/dashboards/lgtm-smoke.yaml"
UID = "mimir"
# PromQL words that are not metric names (keywords and aggregation modifiers).
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless",
            "inf", "nan"}


def promql_names(expr: str) -> tuple[set[str], set[str]]:
    """(metric names, label names used in matchers or grouping) of one PromQL expression."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # string literals
    labels = set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", "".join(re.findall(r"\{[^}]*\}", expr))))
    for clause in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        labels |= {w.strip() for w in clause.split(",") if w.strip()}
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\$\{?\w+\}?", " ", expr)  # matchers, ranges, dashboard variables
    names = set()
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", expr):
        if not m.group(2) and m.group(1).lower() not in KEYWORDS:
            names.add(m.group(1))
    return names, labels


def load() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows


def queries(dashboard: dict):
    """(where, PromQL) of every panel target and every query variable."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} {target.get('refId')}", target.get("expr", "")
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q.strip())
            assert m, f"variable {var['name']}: only label_values(<selector>, <label>) is supported: {q}"
            yield f"variable {var['name']!r}", f"count by ({m.group(2)}) ({m.group(1)})"


def test_promql_names_finds_metrics_and_labels():
    """The checker itself: a wrong name in a query is seen."""
    names, labels = promql_names('sum by (backend) (rate(foo_total{job="x", a=~"$v"}[5m])) / on(job) bar offset 5m')
    assert names == {"foo_total", "bar"} and labels == {"backend", "job", "a"}
    assert promql_names('avg_over_time(lgtm_smoke_run_success{job="a b"}[$__range])') == (
        {"lgtm_smoke_run_success"}, {"job"})


def test_dashboard_has_the_four_views():
    titles = {p["title"] for p in panels(load())}
    assert {"Run success over time", "Checks over time", "Checks (latest run)", "Read-back seconds per backend",
            "Run duration", "Canary history per backend"} <= titles


def source_matchers(expr: str) -> list[str]:
    return re.findall(r'\bsource\s*(=~|!~|!=|=)\s*"([^"]*)"', expr)


def test_every_query_reads_one_source_so_gate_and_canary_never_mix():
    """The gate and the canary push the same series apart only by `source`: a query without it
    would draw (or count) both as one history."""
    values = {"$source", *results_push.SOURCES}
    for where, expr in queries(load()):
        if where.startswith("variable"):
            continue
        found = source_matchers(expr)
        assert found and all(op == "=" and v in values for op, v in found), f"{where}: source matcher {found} in {expr}"


def test_the_source_variable_offers_exactly_the_pushed_sources_gate_first():
    (var,) = [v for v in load()["templating"]["list"] if v["name"] == "source"]
    assert var["type"] == "custom" and not var.get("multi") and not var.get("includeAll")
    assert var["query"].split(",") == list(results_push.SOURCES) and var["current"]["value"] == results_push.DEFAULT_SOURCE


def test_canary_history_is_per_backend_over_time_and_canary_only():
    (panel,) = [p for p in panels(load()) if p["title"] == "Canary history per backend"]
    (target,) = panel["targets"]
    assert panel["type"] == "state-timeline" and target["range"] and not target.get("instant"), panel
    assert source_matchers(target["expr"]) == [("=", "canary")], target["expr"]  # not the Source variable
    assert re.search(r"\bby\s*\(\s*backend\s*\)", target["expr"]) and target["legendFormat"] == "{{backend}}", target


def test_the_source_checks_can_fail():
    """A query that lost its source matcher, or reads a source nobody pushes, is seen."""
    assert source_matchers('lgtm_smoke_run_success{job="lgtm-smoke"}') == []
    assert source_matchers('x{source="deploy"}') == [("=", "deploy")] and "deploy" not in results_push.SOURCES


@pytest.mark.parametrize("where, expr", list(queries(load())))
def test_every_query_uses_only_pushed_metrics_and_labels(where, expr):
    names, labels = promql_names(expr)
    assert names, f"{where}: no metric in {expr!r}"
    assert names <= set(results_push.METRICS), f"{where}: {sorted(names - set(results_push.METRICS))} not pushed by results_push"
    assert labels <= set(results_push.LABELS), f"{where}: labels {sorted(labels - set(results_push.LABELS))} never set"


def test_every_pushed_metric_is_on_the_dashboard():
    used = set().union(*(promql_names(e)[0] for _, e in queries(load())))
    assert set(results_push.METRICS) <= used, sorted(set(results_push.METRICS) - used)


def _datasources(node, where="dashboard"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield where, value
            else:
                yield from _datasources(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _datasources(value, f"{where}[{i}]")


def test_every_datasource_is_the_provisioned_mimir():
    found = list(_datasources(load()))
    assert len(found) >= len(list(panels(load())))
    for where, ds in found:
        assert isinstance(ds, dict) and ds.get("uid") == UID and ds.get("type") == "prometheus", f"{where}: {ds!r}"
    datasources = (ROOT / "infra/images/grafana/provisioning/datasources/datasources.yaml").read_text()
    assert re.search(rf"(?m)^\s+uid: {UID}\s*$", datasources), "the Mimir datasource's uid is no longer 'mimir'"


def test_dashboard_is_well_formed():
    d = load()
    ids = [p["id"] for p in panels(d)]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    assert d["uid"] == "lgtm-smoke" and d["schemaVersion"] >= 39
    for p in panels(d):
        assert {"x", "y", "w", "h"} <= set(p["gridPos"]) and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24, p["title"]


def test_provider_points_at_the_dashboards_directory():
    text = PROVIDER.read_text()
    assert re.search(r"(?m)^\s+path: /var/lib/grafana/dashboards\s*$", text)
    assert re.search(r"(?m)^\s+type: file\s*$", text) and re.search(r"(?m)^apiVersion: 1\s*$", text)
