"""Each check about the workflows and the smoke gate (infra/preflight/workflows.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import COMPONENT_WF, DEPLOY, GATE, IAM_COMP_OUTPUTS, IAM_MAIN, IAM_SMOKE, INSTALL_SH, TERRAFORM

pytestmark = pytest.mark.preflight

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # issue 11: the gate as written is the gate that runs
    ("smoke_gate_after_every_ecs_deploy", "deploy-ecs-without-gate",
     [(DEPLOY, "  smoke-gate:\n    needs: [prepare, deploy]\n", "  smoke-gate:\n    needs: [prepare]\n")],
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
    # issue 18: only what was reviewed runs beside the secrets
    ("workflow_actions_pinned_to_sha", "tag-not-sha",
     [(GATE, "actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0", "actions/checkout@v4")],
     "uses actions/checkout@v4: pin it to a full commit SHA"),
    ("workflow_actions_pinned_to_sha", "short-sha",
     [(DEPLOY, "docker/build-push-action@10e90e3645eae34f1e60eeb005ba3a3d33f178e8", "docker/build-push-action@10e90e3")],
     "uses docker/build-push-action@10e90e3: pin it to a full commit SHA"),
    ("workflow_actions_pinned_to_sha", "sha-without-version",
     [(GATE, "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830 # v4.3.0",
       "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830")],
     "uses actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830 without its version in a comment"),
    ("no_unlocked_install_with_secrets", "gate-pip-install-dot",
     [(GATE, 'run: bash tools/install.sh suite "$(command -v python)"', "run: pip install .")],
     "smoke-gate.yaml: job smoke-gate installs `pip install .` unlocked, and it runs in environment 'production'"),
    ("no_unlocked_install_with_secrets", "gate-extra-package",
     [(GATE, 'run: bash tools/install.sh suite "$(command -v python)"',
       'run: |\n          bash tools/install.sh suite "$(command -v python)"\n          python -m pip install awscli')],
     "installs `python -m pip install awscli` unlocked"),
    ("no_unlocked_install_with_secrets", "installer-without-hashes",
     [(INSTALL_SH, "--python \"$py\" --require-hashes -r requirements/suite.txt", "--python \"$py\" -r requirements/suite.txt")],
     "job smoke-gate installs `tools/install.sh: run \"$uv\" pip install --quiet --python \"$py\" "
     "-r requirements/suite.txt` unlocked"),
    # issue 20: the gate runs during the rollout, or its verdict comes too late to roll back
    ("smoke_gate_runs_during_rollout", "terraform-gate-without-deploy-started",
     [(TERRAFORM, "      deploy_started: ${{ needs.stage5-ecs.outputs.started }}\n", "")],
     "terraform.yaml: job smoke-gate calls smoke-gate.yaml after an ECS apply without deploy_started (not passed)"),
    ("smoke_gate_runs_during_rollout", "deploy-ecs-gate-without-deploy-started",
     [(DEPLOY, "      deploy_started: ${{ needs.prepare.outputs.started }}\n", "")],
     "deploy-ecs.yaml: job smoke-gate calls smoke-gate.yaml after an ECS apply without deploy_started"),
    ("smoke_gate_runs_during_rollout", "gate-without-deploy-started-input",
     [(GATE, "      deploy_started:\n", "      rollout_started:\n")],
     "smoke-gate.yaml: workflow_call has no deploy_started input"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
