"""Each check about the images (infra/preflight/images.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import DEPLOY, IAM_PAGING, MIMIR, MIMIR_DOCKERFILE, TFVARS

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
    # issue 21: nothing paged: the ruler had no Alertmanager, and the Alertmanager needs a topic
    ("mimir_pages_through_its_alertmanager", "no-alertmanager-target",
     [(MIMIR, "target: all,alertmanager", "target: all")],
     "target all does not run the Alertmanager"),
    ("mimir_pages_through_its_alertmanager", "ruler-sends-nowhere",
     [(MIMIR, "  alertmanager_url: http://localhost:8080/alertmanager\n", "")],
     "ruler.alertmanager_url is 'unset': the ruler must send to this task's own Alertmanager, "
     "http://localhost:8080/alertmanager"),
    ("mimir_pages_through_its_alertmanager", "ruler-sends-through-the-alb",
     [(MIMIR, "alertmanager_url: http://localhost:8080/alertmanager", "alertmanager_url: https://alb.example/alertmanager")],
     "ruler.alertmanager_url is 'https://alb.example/alertmanager'"),
    ("mimir_pages_through_its_alertmanager", "config-upload-api-on",
     [(MIMIR, "  enable_api: false", "  enable_api: true")],
     "alertmanager.enable_api is not false"),
    ("mimir_pages_through_its_alertmanager", "config-beside-the-store",
     [(MIMIR_DOCKERFILE, "COPY <<EOF /etc/mimir/alertmanager/${TENANT}.yaml", "COPY <<EOF /etc/mimir/alertmanager.yaml")],
     "no `COPY <<EOF /etc/mimir/alertmanager/${TENANT}.yaml`"),
    ("mimir_pages_through_its_alertmanager", "literal-topic",
     [(MIMIR_DOCKERFILE, "topic_arn: ${PAGE_TOPIC_ARN}", "topic_arn: arn:aws:sns:ap-northeast-2:123456789012:other")],
     "receiver 'alerts-topic' publishes to ['arn:aws:sns:ap-northeast-2:123456789012:other']"),
    ("mimir_pages_through_its_alertmanager", "no-topic-build-arg",
     [(DEPLOY, "            PAGE_TOPIC_ARN=${{ steps.page.outputs.topic_arn }}\n", "")],
     "build-arg PAGE_TOPIC_ARN=(none) is not a step output"),
    ("mimir_pages_through_its_alertmanager", "topic-renamed-in-iam",
     [(IAM_PAGING, 'name              = "${var.name}-alerts"', 'name              = "${var.name}-pages"')],
     "composing arn:aws:sns:<region>:<account>:<project>-<environment>-pages"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
