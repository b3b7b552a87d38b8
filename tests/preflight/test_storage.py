"""Each check about S3 (infra/preflight/storage.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import ECS_LOCALS, PYRO, TEMPO, TFVARS

pytestmark = pytest.mark.preflight

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # 2026-01-16 02:00/02:30
    ("storage_prefixes_consistent", "mimir-prefix-dash",
     [(TFVARS, 'mimir     = "mimir"', 'mimir     = "mimir-blocks"')],
     "Mimir allows only [A-Za-z0-9]"),
    ("storage_prefixes_consistent", "prefix-hardcoded-in-task",
     [(ECS_LOCALS, "LOKI_STORAGE_PREFIX = var.storage_prefixes.loki", 'LOKI_STORAGE_PREFIX = "loki"')],
     "task definition sets LOKI_STORAGE_PREFIX='loki'"),
    ("storage_prefixes_consistent", "pyroscope-no-prefix",
     [(PYRO, "  storage_prefix: ${PYROSCOPE_STORAGE_PREFIX}\n", "")],
     "pyroscope: config has no storage.storage_prefix"),
    # 2026-01-15 18:00: s3.northeast-2 typo
    ("s3_endpoints_use_region_variable", "tempo-typo",
     [(TEMPO, "endpoint: s3.${AWS_REGION}.amazonaws.com", "endpoint: s3.northeast-2.amazonaws.com")],
     "tempo: config.yaml S3 endpoint 's3.northeast-2.amazonaws.com'"),
    # 2026-01-16 05:30 / 2026-01-15 10:00
    ("bucket_versioning", "data-bucket-versioned",
     [("infra/terraform/modules/s3/main.tf", 'status = "Disabled"', 'status = "Enabled"')],
     "data bucket versioning is Enabled; it must be Disabled"),
    ("bucket_versioning", "state-bucket-unversioned",
     [("infra/terraform/environments/prod/00-bootstrap/main.tf", 'status = "Enabled"', 'status = "Suspended"')],
     "00-bootstrap state bucket versioning is ['Suspended']; it must be Enabled"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
