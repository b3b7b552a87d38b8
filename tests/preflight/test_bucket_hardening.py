"""The data bucket (modules/s3) and the ALB's access-log bucket (modules/alb) get their
hardening from one module, modules/bucket-hardening: each hands it its own bucket and the
encryption it needs, keeps none of those resources itself, and moves each one it used to
hold into the module (`moved`), so an apply keeps them instead of recreating them."""

from __future__ import annotations

import pytest

from infra.preflight import Infra
from infra.preflight.tree import MODULES_DIR, blocks, named

pytestmark = pytest.mark.preflight

HARDENING = f"{MODULES_DIR}/bucket-hardening"
# module dir -> (the bucket resource, its hardening call, the encryption it needs)
USERS = {
    "s3": ("data", "data_hardening", "aws:kms"),
    "alb": ("access_logs", "access_logs_hardening", "AES256"),
}


def hardening_resources(infra: Infra) -> set[str]:
    return {rtype for rtype, _, _ in blocks(infra.merged(HARDENING), "resource")}


@pytest.mark.parametrize("module", sorted(USERS))
def test_each_bucket_is_hardened_by_the_one_module(shipped, module):
    bucket, call_name, sse = USERS[module]
    merged = shipped.merged(f"{MODULES_DIR}/{module}")
    call = named(merged, "module")[call_name]
    assert call["source"] == "../bucket-hardening"
    assert (call["bucket"], call["bucket_arn"]) == (f"${{aws_s3_bucket.{bucket}.id}}", f"${{aws_s3_bucket.{bucket}.arn}}")
    assert call["sse_algorithm"] == sse
    kept = {rtype for rtype, _, _ in blocks(merged, "resource")} & hardening_resources(shipped)
    assert not kept, f"modules/{module} still holds hardening of its own: {sorted(kept)}"


@pytest.mark.parametrize("module", sorted(USERS))
def test_every_hardening_resource_is_moved_not_recreated(shipped, module):
    bucket, call_name, _ = USERS[module]
    moved = {(m["from"], m["to"]) for m in shipped.merged(f"{MODULES_DIR}/{module}").get("moved", [])}
    want = {(f"${{{rtype}.{bucket}}}", f"${{module.{call_name}.{rtype}.this}}") for rtype in hardening_resources(shipped)}
    assert want <= moved, f"modules/{module}: no moved block for {sorted(want - moved)}"
