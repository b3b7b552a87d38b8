"""The verdict everywhere but the terminal: `--summary-md` (and `$GITHUB_STEP_SUMMARY`),
`--report-json`, `--push-results`. Done before the terminal verdict is printed, so that the
verdict stays the last thing on screen."""
from __future__ import annotations

from typing import Any

from .. import settings as st
from . import report


def deliver(smoke: st.Settings, records: list[report.CheckRecord], meta: dict[str, Any],
            duration_s: float) -> list[str]:
    """Write the Markdown and JSON reports and push the result series, as `smoke` asks;
    returns the lines to print about it (the push's outcome)."""
    md = report.markdown(records, meta)
    if smoke.summary_md:
        report.write(smoke.summary_md, md)
    step_summary = st.env("GITHUB_STEP_SUMMARY")
    if step_summary and step_summary != smoke.summary_md:
        report.write(step_summary, md, append=True)
    if smoke.report_json:
        report.write(smoke.report_json, report.json_report(records, meta))
    if not smoke.push_results:
        return []
    from ..http import Client
    from .push import push

    client = Client(smoke.alb, smoke.tenant, verify=smoke.verify, edge_secret=smoke.edge_secret)
    try:
        return [push(client, records, report.verdict(records)[0], duration_s, smoke.push_source)]
    finally:
        client.close()
