"""Every check that touches Pyroscope: both ingest paths read back exactly, tenant
isolation, a profile without a tenant, garbage to both ingest paths, and the read through
Grafana's datasource."""
from __future__ import annotations

import time

from ...outcome import CheckFailed, check
from ...probe import ProbeContext, Transient, expect_now
from ...protocol import pprof
from .. import security
from ..grafana import client as grafana
from . import client as pyro

AREA = "pyroscope"
NO_AUTH_FOLDER = "anonymous/"
NEEDS = ("alb", "target_group.pyroscope")


@check("pyroscope.ingest", needs=NEEDS)
def ingest(ctx: ProbeContext) -> dict:
    labels = pyro.run_labels(ctx.run_id, "pyroscope-ingest")
    params = pyro.render_params(labels, pyro.push_ingest(ctx, labels))

    def fetch() -> dict:
        ex = ctx.client.get(pyro.RENDER, params=params)
        return {"query": params["query"], **pyro.compare(ex, *pyro.flamebearer(ex), ctx.run_id)}

    return ctx.read_back(fetch, what=f"profile {params['query']}")


@check("pyroscope.connect_push", needs=NEEDS)
def connect_push(ctx: ProbeContext) -> dict:
    labels = pyro.run_labels(ctx.run_id, "pyroscope-connect")
    request = pyro.merge_request(labels, pyro.push_connect(ctx, labels))

    def fetch() -> dict:
        ex = ctx.client.post(pyro.MERGE_STACKTRACES, json=request, headers={"Connect-Protocol-Version": "1"})
        return {"selector": request["labelSelector"], **pyro.compare(ex, *pyro.flamegraph(ex), ctx.run_id)}

    return ctx.read_back(fetch, what=f"profile {pyro.PROFILE_TYPE}{request['labelSelector']}")


@check("pyroscope.isolation", needs=NEEDS)
def isolation(ctx: ProbeContext) -> dict:
    labels = pyro.run_labels(ctx.run_id, security.ISOLATION_CHECK)
    params = pyro.render_params(labels, pyro.push_ingest(ctx, labels))

    def query_as(tenant: str):
        ex = ctx.client.get(pyro.RENDER, tenant=tenant, params=params)
        return ex, pyro.flamebearer(ex)

    def own() -> dict:
        ex, flame = query_as(ctx.tenant)
        return pyro.compare(ex, *flame, ctx.run_id)

    ctx.read_back(own, what=f"profile {params['query']} as its own tenant (before the isolation test)")
    other = ctx.settings.other_tenant
    try:
        ex, (names, _, total) = query_as(other)
    except Transient as e:
        expect_now(e.exchange, "isolation")
        raise
    if total:
        raise CheckFailed(f"isolation: GET {pyro.RENDER} (tenant {other!r}) → {ex.status} returned tenant "
                          f"{ctx.tenant!r}'s profile (total {total}, functions "
                          f"{[n for n in names if n in pyro.FUNCTIONS]}): Pyroscope ignores X-Scope-OrgID "
                          "on queries — anyone who sets any tenant id reads every tenant's profiles (with "
                          f"multitenancy off every profile sits under {NO_AUTH_FOLDER} in the S3 bucket)",
                          [f"response body: {ex.preview()}"])
    return {"query": params["query"], "own_tenant": ctx.tenant, "other_tenant": other, "other_sees": 0}


@check("pyroscope.no_tenant", needs=NEEDS)
def no_tenant(ctx: ProbeContext) -> dict:
    """A push without X-Scope-OrgID must get 401 {"code":"unauthenticated","message":"no org id"}."""
    t_ns = time.time_ns()
    body = pprof.encode(pyro.make_profile(ctx.run_id, t_ns))
    params = pyro.ingest_params(f"{pyro.SERVICE}{{check={security.NO_TENANT_CHECK}}}", t_ns - 10 * 10**9, 10)
    ex = ctx.client.post(pyro.INGEST, params=params, data=body, tenant=None,
                         headers={"Content-Type": "application/octet-stream"})
    return security.expect_no_org_id(ex, "pyroscope", "a profile", NO_AUTH_FOLDER, accepted=(
        "Pyroscope accepted a profile without a tenant — multitenancy is off, so every profile (whatever "
        f"X-Scope-OrgID it carries) lands in tenant 'anonymous' ({NO_AUTH_FOLDER} in the S3 bucket) and any tenant "
        "reads them all: set multitenancy_enabled: true"))


@check("pyroscope.garbage", needs=NEEDS)
def garbage(ctx: ProbeContext) -> dict:
    now = time.time_ns()
    return security.garbage("pyroscope", [
        ("a body that is not pprof (ingest, format=pprof)",
         lambda: ctx.client.post(pyro.INGEST, data=security.GARBAGE, headers={"Content-Type": "application/octet-stream"},
                                 params=pyro.ingest_params("lgtm-smoke-garbage.cpu", now - 10 * 10**9, 10))),
        ("a body that is not a PushRequest (Connect push)",
         lambda: ctx.client.post(pyro.CONNECT_PUSH, data=security.GARBAGE, headers={"Content-Type": "application/proto"})),
    ], lambda: ctx.client.post(pyro.PROFILE_TYPES, data=b"{}", headers={"Content-Type": "application/json"}))


@check("pyroscope.grafana_proxy", needs=(*NEEDS, "grafana.login"))
def grafana_proxy(ctx: ProbeContext) -> dict:
    ds = grafana.find_datasource(ctx, "pyroscope")
    labels = pyro.run_labels(ctx.run_id, grafana.PROXY_CHECK)
    request = pyro.merge_request(labels, pyro.push_connect(ctx, labels))

    def fetch() -> dict:  # the Connect querier call Grafana's Pyroscope datasource makes for a flame graph
        ex = grafana.proxy(ctx, "POST", ds["uid"], pyro.MERGE_STACKTRACES, json=request,
                           headers={"Connect-Protocol-Version": "1"})
        return {"datasource": ds["name"], "uid": ds["uid"], "selector": request["labelSelector"],
                **pyro.compare(ex, *pyro.flamegraph(ex), ctx.run_id)}

    return grafana.via(ds, lambda: ctx.read_back(fetch, what=f"profile {pyro.PROFILE_TYPE}"
                                                            f"{request['labelSelector']} via Grafana"))


grafana_datasource = grafana.datasource_check_for(AREA)
