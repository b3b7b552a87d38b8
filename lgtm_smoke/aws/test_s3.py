"""S3: is the data bucket laid out one prefix per backend with this tenant's folders, with
no trace of a backend that ran without a tenant, and are both buckets configured safely?
Run this area alone: `pytest -m "smoke and aws" -k test_s3 --alb $ALB`."""

import pytest

from lgtm_smoke.aws import s3

pytestmark = [pytest.mark.smoke, pytest.mark.aws]


@pytest.mark.check(s3.top_level_layout)
def test_top_level_layout(outcome):
    """Top-level prefixes are exactly the storage_prefixes (mimir/, loki/, tempo/, pyroscope/)
    and the only root objects are *_cluster_seed.json. Fails on: a stray tenant_settings.json at
    the root (seed: Mimir runtime_config) or a backend writing without its prefix."""
    assert outcome["findings"] == []


@pytest.mark.check(s3.tenant_folders)
def test_each_backend_has_tenant_folder(outcome):
    """Each backend prefix holds <prefix>/<tenant>/. Fails on: a backend storing under a
    different tenant (seed: old aws-rag-* tenant ids) or not storing at all."""
    assert outcome["findings"] == []


@pytest.mark.check(s3.no_tenantless_folders)
def test_no_tenantless_folders(outcome):
    """No anonymous/, fake/ or single-tenant/ folder at the root or under a backend prefix.
    Fails on: a backend running without multitenancy (seed: Pyroscope anonymous/phlaredb/)."""
    assert outcome["findings"] == []


@pytest.mark.check(s3.public_access_block)
def test_public_access_block_on(outcome):
    """All four public-access-block flags are on for the data bucket."""
    assert outcome["findings"] == []


@pytest.mark.check(s3.default_encryption)
def test_default_encryption_on(outcome):
    """The data bucket's default encryption is SSE-KMS with a Bucket Key, as modules/s3 sets it.
    Fails on: SSE-S3 (AES256), which is what AWS resets a bucket to when its configuration is
    deleted or replaced."""
    assert outcome["findings"] == []


@pytest.mark.check(s3.versioning)
def test_versioning_as_intended(outcome):
    """Data bucket versioning off (seed: destroy failed with BucketNotEmpty), state bucket on."""
    assert outcome["findings"] == []
