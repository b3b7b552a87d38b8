"""`--publish-cloudwatch`: the verdict per ECS service as a CloudWatch metric, the signal
each service's deploy alarm watches (ECS `deploymentConfiguration.alarms`: an alarm in ALARM
during a deployment fails it and rolls the service back; docs/infra.md "Rollback timing").

One datapoint per *checked* service: `<namespace>/FailedChecks {Service=<svc>, Source=<source>}`
= how many of its checks failed, 0 when healthy. A service the run could not check gets no
datapoint (the alarms treat missing data as not breaching: missing data never rolls back).
`Source` keeps the series apart: the deploy gate publishes `deploy`, the scheduled canary
`canary`; a deploy alarm names `Source=deploy`, so a canary failure between deploys never
leaves a deploy alarm in ALARM (CloudWatch identifies a metric by its full dimension set).

A failed publish is one warning line: it never changes the verdict. The boto3 client is
made by the caller (plugin.py, from the AWS room's settings): this module only shapes and sends.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Mapping

from ..settings import PUBLISH_SOURCES

DEFAULT_NAMESPACE = "LGTM/Smoke"
METRIC = "FailedChecks"
SERVICE = "Service"
SOURCE = "Source"
SOURCES = PUBLISH_SOURCES  # deploy: what the deploy alarms watch; canary: the scheduled canary


def dimensions(service: str, source: str) -> list[dict[str, str]]:
    """The dimensions of one service's series; the Terraform alarms name exactly these."""
    return [{"Name": SERVICE, "Value": service}, {"Name": SOURCE, "Value": source}]


def metric_data(failed: Mapping[str, int], source: str, when: datetime | None = None) -> list[dict[str, Any]]:
    """PutMetricData `MetricData`: one datapoint per checked service (standard resolution)."""
    when = when or datetime.now(UTC)
    return [{"MetricName": METRIC, "Dimensions": dimensions(svc, source), "Timestamp": when, "Value": float(n),
             "Unit": "Count"} for svc, n in sorted(failed.items())]


def publish(client: Any, failed: Mapping[str, int], namespace: str, source: str,
            describe_error: Any = None) -> str:
    """Put the datapoints with `client` (boto3 CloudWatch). Returns one line; never raises.
    `describe_error(exc, what)` turns an AWS error into one line (lgtm_smoke.aws.errors)."""
    if not failed:
        return "CloudWatch: nothing published (no service was checked)"
    data = metric_data(failed, source)
    shown = ", ".join(f"{svc}={n}" for svc, n in sorted(failed.items()))
    try:
        client.put_metric_data(Namespace=namespace, MetricData=data)
    except Exception as e:  # reporting must never turn a verdict into a traceback
        what = f"publishing {namespace}/{METRIC} (cloudwatch:PutMetricData)"
        line = describe_error(e, what) if describe_error else f"{what}: {type(e).__name__}: {e}"
        return f"WARNING: --publish-cloudwatch: {line} (the verdict stands)"
    return f"CloudWatch: published {namespace}/{METRIC} {{{SOURCE}={source}}} {shown}"
