"""The collector facts shipped with the plugin (lgtm_smoke/backends/alloy/collector.json) are
what infra/images/alloy/config.alloy makes Alloy send: a changed config or Alloy version
without refreshed facts fails here, not as a mystery in the collector checks."""

from __future__ import annotations

import re
from pathlib import Path

from lgtm_smoke.backends.alloy import facts as collector

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "infra" / "images" / "alloy" / "config.alloy"


def blocks(text: str) -> dict[tuple[str, str], str]:
    """Top-level `kind "label" { ... }` blocks of an Alloy config (braces balanced)."""
    text = re.sub(r"//[^\n]*", "", text)
    out, i = {}, 0
    for m in re.finditer(r'^([a-z_.]+)(?:\s+"([^"]*)")?\s*\{', text, re.MULTILINE):
        if m.start() < i:
            continue
        depth, j = 0, m.end() - 1
        while True:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        out[(m.group(1), m.group(2) or "")] = text[m.end() : j - 1]
        i = j
    return out


def test_metric_facts_match_the_shipped_config():
    facts = collector.load()
    b = blocks(CONFIG.read_text())
    exporters = [label for kind, label in b if kind == "prometheus.exporter.self"]
    assert len(exporters) == 1
    scrape = next(
        body
        for (kind, _), body in b.items()
        if kind == "prometheus.scrape" and f"prometheus.exporter.self.{exporters[0]}.targets" in body
    )
    # targets straight from the exporter: no relabel, so the exporter's job label stands
    assert re.search(rf"targets\s*=\s*prometheus\.exporter\.self\.{exporters[0]}\.targets\s*$", scrape, re.MULTILINE)
    interval = re.search(r'scrape_interval\s*=\s*"(\d+)s"', scrape)
    assert interval and int(interval.group(1)) == facts["metrics"]["scrape_interval_seconds"]
    rw = re.search(r"forward_to\s*=\s*\[prometheus\.remote_write\.(\w+)\.receiver\]", scrape).group(1)
    assert re.search(rf'"X-Scope-OrgID"\s*=\s*sys\.env\("{facts["tenant_env"]}"\)', b[("prometheus.remote_write", rw)])


def test_log_facts_match_the_shipped_config():
    facts = collector.load()
    b = blocks(CONFIG.read_text())
    writer = re.search(r"write_to\s*=\s*\[loki\.write\.(\w+)\.receiver\]", b[("logging", "")]).group(1)
    assert re.search(rf'tenant_id\s*=\s*sys\.env\("{facts["tenant_env"]}"\)', b[("loki.write", writer)])
    assert facts["logs"]["selector"] == '{component="alloy"}'


def test_facts_were_read_at_the_pinned_alloy_version():
    text = (REPO / "infra" / "terraform" / "environments" / "prod" / "common.tfvars").read_text()
    pinned = re.search(r'alloy\s*=\s*"([^"]+)"', text).group(1)
    assert collector.load()["alloy_version"] == pinned, (
        "Alloy version changed: re-read the label sources in collector.json"
    )
