"""Each check about the Terraform wiring (infra/preflight/wiring.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken

pytestmark = pytest.mark.preflight

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # 2026-01-15 15:00
    ("module_inputs_declared", "removed-variable-still-passed",
     [("infra/terraform/environments/prod/60-ecs/main.tf",
       "  grafana_admin_secret_arn          = data.terraform_remote_state.iam.outputs.grafana_admin_secret_arn\n",
       "  grafana_admin_secret_arn          = data.terraform_remote_state.iam.outputs.grafana_admin_secret_arn\n"
       "  tempo_otlp_target_group_arn       = \"x\"\n")],
     "passes 'tempo_otlp_target_group_arn', which infra/terraform/modules/ecs does not declare"),
    ("module_inputs_declared", "required-variable-missing",
     [("infra/terraform/environments/prod/60-ecs/main.tf",
       "  memcached_endpoint                = data.terraform_remote_state.memcached.outputs.memcached_endpoint\n", "")],
     "does not pass required variable 'memcached_endpoint'"),
    ("module_inputs_declared", "undeclared-var",
     [("infra/terraform/environments/prod/50-alb/variables.tf", 'variable "certificate_arn" {', 'variable "certificate" {')],
     "uses var.certificate_arn but declares no variable"),
    ("remote_state_outputs_exported", "output-removed",
     [("infra/terraform/environments/prod/50-alb/outputs.tf", 'output "target_group_arns" {', 'output "tg_arns" {')],
     "reads alb.outputs.target_group_arns but 50-alb exports no output 'target_group_arns'"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
