"""Each check about the smoke canary (infra/preflight/canary.py) fails on a copy of the tree broken
the way issue 21 says it must not be, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import CANARY_COMP, CANARY_COMP_VARS, CANARY_MAIN, IAM_SMOKE, TFVARS

pytestmark = pytest.mark.preflight

METRICS_CONDITION = '''    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.smoke_metric_namespace]
    }
'''
DEADLINE_DEFAULT = '''  type        = number
  default     = 240'''

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # issue 21: the schedule runs the smoke image's `canary --once`
    ("canary_runs_smoke_image", "grafana-repository",
     [(CANARY_COMP, 'repository_urls["smoke"]', 'repository_urls["grafana"]')],
     'the canary\'s image comes from ECR repository "grafana", not "smoke"'),
    ("canary_runs_smoke_image", "grafana-tag",
     [(CANARY_COMP, '${var.environment}/image-tag/smoke"', '${var.environment}/image-tag/grafana"')],
     "the image tag is '/${var.project_name}/${var.environment}/image-tag/grafana', not the parameter deploy-ecs.yaml "
     "publishes for the smoke image"),
    ("canary_runs_smoke_image", "run-not-canary",
     [(CANARY_MAIN, 'command   = ["canary", "--once", "--deadline"', 'command   = ["run", "--deadline"')],
     """command ['run', '--deadline', '${tostring(var.canary_deadline_seconds)}'] does not start with ["canary", "--once"]"""),
    ("canary_runs_smoke_image", "no-smoke-repository",
     [("infra/terraform/environments/prod/11-ecr/main.tf", ', ["smoke"]', ", []")],
     '11-ecr makes no "smoke" repository'),
    # issue 21: the task role writes nothing but metrics in our namespace
    ("canary_task_role_writes_only_metrics", "no-namespace-condition",
     [(CANARY_MAIN, METRICS_CONDITION, "")],
     "statement CanaryMetricsOwnNamespace allows cloudwatch:PutMetricData without a StringEquals cloudwatch:namespace"),
    ("canary_task_role_writes_only_metrics", "aws-namespace",
     [(CANARY_MAIN, "values   = [var.smoke_metric_namespace]", 'values   = ["AWS/ECS"]')],
     "scopes cloudwatch:PutMetricData to ['AWS/ECS'], not our namespace [LGTM/Smoke]"),
    ("canary_task_role_writes_only_metrics", "run-task",
     [(CANARY_MAIN, '    sid       = "CanaryMetricsOwnNamespace"',
       '    sid       = "CanaryStartsTasks"\n    actions   = ["ecs:RunTask"]\n    resources = ["*"]\n  }\n'
       '  statement {\n    sid       = "CanaryMetricsOwnNamespace"')],
     "smoke-canary data.aws_iam_policy_document.task statement CanaryStartsTasks lets the canary's task role write: ecs:RunTask"),
    # the statements it takes from the smoke role (02-iam's output) are followed too
    ("canary_task_role_writes_only_metrics", "put-object-in-smoke-role",
     [(IAM_SMOKE, '      "s3:ListBucket",\n', '      "s3:ListBucket",\n      "s3:PutObject",\n')],
     "modules/iam data.aws_iam_policy_document.smoke statement SmokeBuckets lets the canary's task role write: s3:PutObject"),
    ("canary_task_role_writes_only_metrics", "managed-policy",
     [(CANARY_MAIN, 'resource "aws_iam_role_policy" "task" {',
       'resource "aws_iam_role_policy_attachment" "task_admin" {\n'
       '  role       = aws_iam_role.task.name\n'
       '  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"\n}\n\n'
       'resource "aws_iam_role_policy" "task" {')],
     "aws_iam_role_policy_attachment.task_admin gives the canary's task role (aws_iam_role.task) a policy preflight cannot read"),
    # a policy it cannot follow to its statements is the check's one line, not a crash
    ("canary_task_role_writes_only_metrics", "policy-from-a-file",
     [(CANARY_COMP, "data.terraform_remote_state.iam.outputs.smoke_policy_json", 'file("smoke-policy.json")')],
     """policy '${file("smoke-policy.json")}' (infra/terraform/environments/prod/70-smoke-canary smoke_policy_json) """
     "is not a policy document preflight can follow"),
    # issue 21: a run (and a late retry) ends before the next tick
    ("canary_run_ends_before_next_tick", "deadline-300-interval-5",
     [(CANARY_COMP_VARS, DEADLINE_DEFAULT, "  type        = number\n  default     = 300")],
     "canary_deadline_seconds = 300 (70-smoke-canary's default) + 60 s margin is more than canary_interval_minutes = 5"),
    ("canary_run_ends_before_next_tick", "tfvars-interval-4",
     [(TFVARS, "image_versions = {", "canary_interval_minutes = 4\n\nimage_versions = {")],
     "canary_interval_minutes = 4 (common.tfvars) x 60 s"),
    ("canary_run_ends_before_next_tick", "no-precondition",
     [(CANARY_MAIN, " && var.canary_deadline_seconds + 60 <= var.canary_interval_minutes * 60", "")],
     "has no precondition var.canary_deadline_seconds + 60 <= var.canary_interval_minutes * 60"),
    ("canary_run_ends_before_next_tick", "day-long-retry",
     [(CANARY_MAIN, "maximum_event_age_in_seconds = local.max_event_age_seconds", "maximum_event_age_in_seconds = 86400")],
     "maximum_event_age_in_seconds = 86400 is more than interval - deadline = 60 s"),
    ("canary_run_ends_before_next_tick", "literal-deadline",
     [(CANARY_MAIN, '"--deadline", tostring(var.canary_deadline_seconds)', '"--deadline", "600"')],
     "does not pass --deadline var.canary_deadline_seconds"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
