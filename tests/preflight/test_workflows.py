"""Each check about the workflows and the smoke gate (infra/preflight/workflows.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import COMPONENT_WF, DEPLOY, GATE, IAM_COMP_OUTPUTS, IAM_MAIN, IAM_SMOKE, TERRAFORM

pytestmark = pytest.mark.preflight

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # issue 11: the gate as written is the gate that runs
    ("smoke_gate_after_every_ecs_deploy", "deploy-ecs-without-gate",
     [(DEPLOY, "  smoke-gate:\n    needs: [prepare, wait-stable]\n", "  smoke-gate:\n    needs: [prepare]\n")],
     "deploy-ecs.yaml: job deploy applies 60-ecs but no job calling smoke-gate.yaml needs it"),
    ("smoke_gate_after_every_ecs_deploy", "terraform-stage5-without-gate",
     [(TERRAFORM, "    needs: [stage5-ecs]\n    uses: ./.github/workflows/smoke-gate.yaml",
       "    needs: [stage4-alb]\n    uses: ./.github/workflows/smoke-gate.yaml")],
     "terraform.yaml: job stage5-ecs applies 60-ecs but no job calling smoke-gate.yaml needs it"),
    ("smoke_gate_after_every_ecs_deploy", "single-component-ecs",
     [(TERRAFORM, "if: needs.settings.outputs.component != 'all' "
                  "&& !(needs.settings.outputs.component == '60-ecs' && needs.settings.outputs.action == 'apply')",
       "if: needs.settings.outputs.component != 'all'")],
     "terraform.yaml: job single applies 60-ecs"),
    ("smoke_gate_credentials_and_secrets", "no-id-token",
     [(GATE, "permissions:\n  id-token: write\n", "permissions:\n")],
     "no `id-token: write` permission"),
    ("smoke_gate_credentials_and_secrets", "deploy-role",
     [(GATE, "role-to-assume: ${{ vars.AWS_SMOKE_ROLE_ARN }}", "role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}")],
     "not the read-only smoke role"),
    ("smoke_gate_credentials_and_secrets", "password-from-github-secret",
     [(GATE, '          LGTM_GRAFANA_PASSWORD="$(secret "$STACK/grafana/admin-password")"\n',
       "          LGTM_GRAFANA_PASSWORD=\"${{ secrets.GRAFANA_ADMIN_PASSWORD }}\"\n")],
     "does not read grafana/admin-password from Secrets Manager into LGTM_GRAFANA_PASSWORD"),
    ("smoke_gate_credentials_and_secrets", "no-edge-secret",
     [(GATE, '          LGTM_EDGE_SECRET="$(secret "$STACK/alb/edge-secret")"\n', "")],
     "does not read alb/edge-secret from Secrets Manager into LGTM_EDGE_SECRET"),
    # issue 11 mutation: the Grafana secret removed
    ("smoke_gate_credentials_and_secrets", "grafana-secret-removed",
     [(IAM_MAIN, 'name                    = "${var.name}/grafana/admin-password"',
       'name                    = "${var.name}/grafana/admin"')],
     "modules/iam creates no secret <project>-<env>/grafana/admin-password"),
    # the smoke role's secret resource through a variable 02-iam never passed (null): the
    # gate could not read the edge secret on AWS, while moto, given the ARN, could
    ("smoke_gate_credentials_and_secrets", "edge-secret-through-unset-variable",
     [(IAM_SMOKE, "aws_secretsmanager_secret.edge.arn]", "var.edge_secret_arn]")],
     "GetSecretValue does not reach the secret <project>-<env>/alb/edge-secret"),
    ("smoke_gate_credentials_and_secrets", "no-smoke-role-output",
     [(IAM_COMP_OUTPUTS, 'output "smoke_role_arn" {', 'output "smoke_role" {')],
     "02-iam has no output smoke_role_arn"),
    ("smoke_gate_expects_built_tags", "no-expect-image-tag",
     [(GATE, ' --expect-image-tag "$EXPECT_IMAGE_TAGS"', "")],
     "pytest runs without --expect-image-tag"),
    ("smoke_gate_expects_built_tags", "tags-not-from-build",
     [(TERRAFORM, "image_tags: ${{ needs.stage5-ecs.outputs.image_tags }}",
       "image_tags: ${{ needs.settings.outputs.image_tags }}")],
     "terraform.yaml: job smoke-gate passes image_tags ${{ needs.settings.outputs.image_tags }}"),
    ("smoke_gate_uploads_reports", "no-always",
     [(GATE, "      - name: Upload smoke reports (JUnit, JSON, Markdown)\n        if: always()\n",
       "      - name: Upload smoke reports (JUnit, JSON, Markdown)\n")],
     "has no `if: always()`"),
    ("smoke_gate_uploads_reports", "json-not-uploaded",
     [(GATE, "            smoke.json\n", "")],
     "smoke.json (--report-json) is not uploaded"),
    ("smoke_gate_uploads_reports", "no-markdown",
     [(GATE, " --summary-md smoke-summary.md", "")],
     "pytest runs without --summary-md"),
    # issue 11 item 5 (its mutations): bootstrap state on the bucket it creates
    ("bootstrap_state_in_bootstrap_bucket", "bootstrap-on-state-bucket",
     [(COMPONENT_WF, "-backend-config=\"bucket=${{ steps.vars.outputs.bootstrap_state_bucket }}\"",
       "-backend-config=\"bucket=${{ steps.vars.outputs.state_bucket }}\"")],
     "00-bootstrap is initialised against the state bucket it creates"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
