"""Each check about the images (infra/preflight/images.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import DEPLOY, MIMIR, MIMIR_DOCKERFILE, TFVARS

pytestmark = pytest.mark.preflight

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # 2026-01-16 04:30
    ("ecr_tags_unique_per_build", "tag-is-base-version",
     [(DEPLOY, ":${{ matrix.tag }}", ":${{ matrix.base_version }}")],
     "the base version: tags must be unique per build"),
    ("ecr_tags_unique_per_build", "build-tag-in-tfvars",
     [(TFVARS, 'tempo     = "2.9.0"', 'tempo     = "2.9.0-20260116"')],
     "image_versions.tempo = '2.9.0-20260116' looks like a build tag"),
    # issue 11 item 5 (its mutations): a mutable ECR lets a tag be reused
    ("ecr_tags_unique_per_build", "ecr-mutable",
     [("infra/terraform/modules/ecr/main.tf", 'image_tag_mutability = "IMMUTABLE"', 'image_tag_mutability = "MUTABLE"')],
     "modules/ecr repositories must be IMMUTABLE"),
    # 2026-01-15 19:30: ${VAR}s need -config.expand-env; 2026-01-16 04:30: the base version is the build-arg
    ("images_pin_base_version_and_expand_env", "no-expand-env",
     [("infra/images/loki/Dockerfile", ', "-config.expand-env=true"', "")],
     "CMD lacks -config.expand-env=true"),
    ("images_pin_base_version_and_expand_env", "tag-in-from",
     [("infra/images/tempo/Dockerfile", "FROM grafana/tempo:${VERSION}", "FROM grafana/tempo:latest")],
     "must be `ARG VERSION` then `FROM grafana/tempo:${VERSION}`"),
    # issue 21: the canary's alert rules load only under the tenant's directory of the ruler's store
    ("mimir_rules_under_tenant", "no-tenant-build-arg",
     [(DEPLOY, "            TENANT=${{ needs.prepare.outputs.tenant }}\n", "")],
     "deploy-ecs.yaml job build: the build step passes no build-arg TENANT"),
    ("mimir_rules_under_tenant", "tenant-not-from-tfvars",
     [(DEPLOY, "TENANT=${{ needs.prepare.outputs.tenant }}", "TENANT=anonymous")],
     "build-arg TENANT=anonymous is not a job output written from common.tfvars tenant_id"),
    ("mimir_rules_under_tenant", "rules-beside-tenants",
     [(MIMIR_DOCKERFILE, "/etc/mimir/rules/${TENANT}/lgtm-smoke-canary.yaml", "/etc/mimir/rules/lgtm-smoke-canary.yaml")],
     "rules/lgtm-smoke-canary.yaml is not COPY'd under /etc/mimir/rules/${TENANT}/"),
    ("mimir_rules_under_tenant", "rules-elsewhere-than-the-store",
     [(MIMIR, "    directory: /etc/mimir/rules", "    directory: /data/rules")],
     "is not COPY'd under /data/rules/${TENANT}/ (copied to ['/etc/mimir/rules/${TENANT}/lgtm-smoke-canary.yaml'])"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
