"""Profiles: can a pprof profile reach Pyroscope through the ALB under this stack's tenant,
by both ingest paths agents use, and be read back exactly?"""
import pytest

pytestmark = [pytest.mark.smoke, pytest.mark.pyroscope]


def test_pprof_ingest_reads_back_exactly(pyroscope_ingest):
    """A gzip pprof (cpu/nanoseconds, three known stacks) POSTed to /pyroscope/ingest
    ?name=lgtm-smoke{check=…}&format=pprof answers 200, and GET /pyroscope/render for
    process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="lgtm-smoke",…} returns the known
    function names and exactly this run's total. Fails on: no ALB rule for /pyroscope/*
    (404 from Grafana), Pyroscope down (502), tenant header dropped (401 `no org id`), or
    ingestion not reaching the queriers in time."""
    evidence = pyroscope_ingest.verify()
    assert evidence["total"] > 0


def test_connect_push_reads_back_exactly(pyroscope_connect_push):
    """The same profile as a PushRequest (application/proto) to /push.v1.PusherService/Push
    answers 200, and /querier.v1.QuerierService/SelectMergeStacktraces returns exactly it.
    This is the path Grafana Alloy and the Pyroscope SDKs use; a 404 means the ALB lacks the
    Connect path rules (/push.v1.PusherService/*, /querier.v1.QuerierService/*)."""
    evidence = pyroscope_connect_push.verify()
    assert evidence["total"] > 0


def test_pyroscope_requires_tenant(pyroscope_no_tenant):
    """A profile pushed without X-Scope-OrgID gets 401 {"code":"unauthenticated","message":"no org id"}.
    If it is accepted, Pyroscope runs with multitenancy off: everything, whatever tenant
    header it carries, lands in `anonymous/` in the bucket (the seeds' 02:00 incident)."""
    assert pyroscope_no_tenant.verify()["status"] == 401
