"""S3: the data bucket's layout (one prefix per backend, this tenant's folder under each, no
footprint of a tenant-less backend) and both buckets' settings.

Snapshot keys: s3.data.root {"prefixes": [...], "keys": [...]}, s3.data.children {prefix:
[child prefixes]}, s3.data.pab, s3.data.sse, s3.data.versioning, s3.state.versioning.
"""

from __future__ import annotations

from .errors import code_of
from .settings import AwsSettings
from .snapshot import Finding, Snapshot, aws_check

FORBIDDEN_TENANTS = ("anonymous", "fake", "single-tenant")  # defaults of Pyroscope, Loki/Mimir, Tempo
SEED_FILES = {f"{b}_cluster_seed.json" for b in ("loki", "mimir", "tempo", "pyroscope")}
PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def fetch(f) -> None:
    s, s3, snap = f.settings, f.clients["s3"], f.snapshot
    if not s.data_bucket:
        snap.fail("s3.data", f"no data bucket name: {s.hints['data_bucket']}")
    if not s.state_bucket:
        snap.fail("s3.state", f"no state bucket name: {s.hints['state_bucket']}")

    def listing(prefix: str):
        prefixes, keys = [], []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=s.data_bucket, Prefix=prefix, Delimiter="/"):
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            keys += [o["Key"] for o in page.get("Contents", [])]
        return {"prefixes": prefixes, "keys": keys}

    def optional(call, missing_code, pick):
        def run():
            try:
                return pick(call())
            except Exception as e:
                if code_of(e) == missing_code:
                    return None
                raise

        return run

    def root_then_children():
        root = f.attempt("s3.data.root", f"listing s3://{s.data_bucket}/", lambda: listing(""))
        if root is None:
            if "NoSuchBucket" in snap.errors.get("s3.data.root", ""):
                snap.fail(
                    "s3.data",
                    f"S3 bucket {s.data_bucket} not found: check --data-bucket / data_bucket in common.tfvars",
                )
            return
        kids = f.map(lambda p: (p, listing(p)["prefixes"]), root["prefixes"])
        snap.put("s3.data.children", dict(kids))

    jobs = []
    if s.data_bucket:
        b = s.data_bucket
        jobs += [
            lambda: root_then_children(),
            lambda: f.attempt(
                "s3.data.pab",
                f"reading public access block of {b}",
                optional(
                    lambda: s3.get_public_access_block(Bucket=b),
                    "NoSuchPublicAccessBlockConfiguration",
                    lambda r: r["PublicAccessBlockConfiguration"],
                ),
            ),
            lambda: f.attempt(
                "s3.data.sse",
                f"reading default encryption of {b}",
                optional(
                    lambda: s3.get_bucket_encryption(Bucket=b),
                    "ServerSideEncryptionConfigurationNotFoundError",
                    lambda r: r["ServerSideEncryptionConfiguration"]["Rules"],
                ),
            ),
            lambda: f.attempt(
                "s3.data.versioning",
                f"reading versioning of {b}",
                lambda: s3.get_bucket_versioning(Bucket=b).get("Status"),
            ),
        ]
    if s.state_bucket:
        jobs.append(
            lambda: f.attempt(
                "s3.state.versioning",
                f"reading versioning of {s.state_bucket}",
                lambda: s3.get_bucket_versioning(Bucket=s.state_bucket).get("Status"),
            )
        )
    f.map(lambda job: job(), jobs)


def _expected_prefixes(s: AwsSettings) -> dict[str, str]:
    return dict(s.storage_prefixes) or {b: b for b in ("mimir", "loki", "tempo", "pyroscope")}


def find_top_level_layout(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Top-level prefixes are exactly one per backend; root objects only the cluster-seed files."""
    root = snap.need("s3.data.root")
    want = {p + "/" for p in _expected_prefixes(s).values()}
    got = set(root["prefixes"])
    findings = []
    res = f"s3://{s.data_bucket}"
    for extra in sorted(got - want):
        why = (
            " (a backend wrote without a tenant)"
            if extra.strip("/") in FORBIDDEN_TENANTS
            else " (a backend without its storage prefix?)"
        )
        findings.append(Finding(f"{res}/{extra}", f"unexpected top-level prefix{why}; expected only {sorted(want)}"))
    for missing in sorted(want - got):
        findings.append(Finding(f"{res}/{missing}", "expected backend prefix is missing (the backend has written nothing)"))
    for key in sorted(k for k in root["keys"] if k not in SEED_FILES):
        findings.append(
            Finding(
                f"{res}/{key}",
                "stray object at the bucket root (seed: Mimir runtime config "
                "tenant_settings.json); only *_cluster_seed.json belong there",
            )
        )
    return findings


def find_tenant_folders(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Each backend prefix holds this tenant's folder."""
    root, children = snap.need("s3.data.root"), snap.need("s3.data.children")
    findings = []
    for backend, prefix in sorted(_expected_prefixes(s).items()):
        if prefix + "/" not in root["prefixes"]:
            continue  # reported by the layout check
        if f"{prefix}/{s.tenant}/" not in children.get(prefix + "/", []):
            findings.append(
                Finding(
                    f"s3://{s.data_bucket}/{prefix}/",
                    f"no {s.tenant}/ folder: {backend} stores nothing for this tenant "
                    f"(children: {[c[len(prefix) + 1 :] for c in children.get(prefix + '/', [])][:8]})",
                )
            )
    return findings


def find_no_tenantless_folders(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """No anonymous/, fake/ or single-tenant/ anywhere: the footprint of a backend without a tenant."""
    root, children = snap.need("s3.data.root"), snap.need("s3.data.children")
    findings = []
    for folder in [*root["prefixes"], *(c for kids in children.values() for c in kids)]:
        name = folder.rstrip("/").rsplit("/", 1)[-1]
        if name in FORBIDDEN_TENANTS:
            findings.append(
                Finding(
                    f"s3://{s.data_bucket}/{folder}",
                    f"'{name}' tenant folder: a backend ran without multitenancy/X-Scope-OrgID (seed: Pyroscope anonymous/)",
                )
            )
    return findings


def find_public_access_block(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    pab = snap.need("s3.data.pab")
    if pab is None:
        return [Finding(f"s3://{s.data_bucket}", "no public access block configured")]
    off = [k for k in PAB_FLAGS if not pab.get(k)]
    return [Finding(f"s3://{s.data_bucket}", f"public access block not fully on: {', '.join(off)} false")] if off else []


def find_default_encryption(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """The data bucket's default encryption is what the stack sets: SSE-KMS (`aws:kms`, with
    its key when common.tfvars names one) and an S3 Bucket Key. Every bucket has SSE-S3
    (AES256) by default and deleting the configuration resets it to SSE-S3, so "encrypted
    at all" could never fail on AWS; SSE-S3 here means the stack's setting was replaced."""
    rules = snap.need("s3.data.sse") or []
    res = f"s3://{s.data_bucket}"
    defaults = [r.get("ApplyServerSideEncryptionByDefault") or {} for r in rules]
    kms = [d for d in defaults if d.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse")]
    if not kms:
        algos = ", ".join(d.get("SSEAlgorithm", "?") for d in defaults) or "none returned (SSE-S3, AWS's default)"
        return [
            Finding(
                res,
                f"default encryption {algos}, expected aws:kms as modules/s3/main.tf sets it: the bucket's "
                "encryption configuration was replaced or deleted (deleting resets it to SSE-S3); re-apply 12-s3",
            )
        ]
    findings = []
    key = kms[0].get("KMSMasterKeyID")
    if s.data_bucket_kms_key and (key or "") not in (s.data_bucket_kms_key, s.data_bucket_kms_key.rsplit("/", 1)[-1]):
        findings.append(
            Finding(
                res,
                f"SSE-KMS key {key or 'aws/s3 (AWS managed)'}, expected {s.data_bucket_kms_key} "
                "(data_bucket_kms_key_arn in common.tfvars)",
            )
        )
    if not any(r.get("BucketKeyEnabled") for r in rules):
        findings.append(
            Finding(
                res,
                "S3 Bucket Key off: every object read and write calls KMS (cost and KMS throttling); "
                "modules/s3/main.tf sets bucket_key_enabled = true",
            )
        )
    return findings


def find_versioning(snap: Snapshot, s: AwsSettings) -> list[Finding]:
    """Data bucket versioning off (destroy must be able to empty it); state bucket versioning on."""
    findings = []
    data = snap.need("s3.data.versioning")
    if data == "Enabled":
        findings.append(
            Finding(
                f"s3://{s.data_bucket}",
                "versioning Enabled, the stack intends it off (destroy fails with BucketNotEmpty)",
            )
        )
    state = snap.need("s3.state.versioning")
    if state != "Enabled":
        findings.append(
            Finding(f"s3://{s.state_bucket}", f"versioning {state or 'never enabled'}, expected Enabled for Terraform state")
        )
    return findings


top_level_layout = aws_check("aws.s3.top_level_layout", find_top_level_layout)
tenant_folders = aws_check("aws.s3.tenant_folders", find_tenant_folders)
no_tenantless_folders = aws_check("aws.s3.no_tenantless_folders", find_no_tenantless_folders)
public_access_block = aws_check("aws.s3.public_access_block", find_public_access_block)
default_encryption = aws_check("aws.s3.default_encryption", find_default_encryption)
versioning = aws_check("aws.s3.versioning", find_versioning)
