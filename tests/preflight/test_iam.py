"""Each check about IAM (infra/preflight/iam.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import ECS_COMP, IAM_COMP, IAM_MAIN, IAM_PAGING, IAM_SMOKE

pytestmark = pytest.mark.preflight

NAMESPACE_CONDITION = """    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.smoke_metric_namespace]
    }
"""

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # issue 11 item 3: least privilege and safe pipelines
    ("iam_least_privilege", "any-environment",
     [(IAM_MAIN, 'values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]',
       'values   = ["repo:${var.github_repository}:environment:*"]')],
     "github_assume trusts sub [('StringEquals', ['repo:${var.github_repository}:environment:*'])]"),
    ("iam_least_privilege", "branch-subject",
     [(IAM_MAIN, 'values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]',
       'values   = ["repo:${var.github_repository}:environment:${var.github_environment}", '
       '"repo:${var.github_repository}:ref:refs/heads/main"]')],
     "it must be StringEquals [repo:${var.github_repository}:environment:${var.github_environment}]"),
    ("iam_least_privilege", "terraform-role-edits-itself",
     [(IAM_MAIN, '      "iam:PutRolePolicy",\n      "iam:TagRole",', '      "iam:TagRole",')],
     "role github_terraform may change its own policy (iam:PutRolePolicy on itself are not denied)"),
    ("iam_least_privilege", "task-role-whole-bucket",
     [(IAM_MAIN, '      "${local.data_bucket_arn}/${each.value}/*",', '      "${local.data_bucket_arn}/*",')],
     "task role statement OwnPrefixObjects reaches ${local.data_bucket_arn}/*"),
    ("iam_least_privilege", "grafana-task-role",
     [("infra/terraform/modules/iam/variables.tf", 'default     = ["mimir", "loki", "tempo", "pyroscope"]',
       'default     = ["grafana", "mimir", "loki", "tempo", "pyroscope"]')],
     "modules/iam gives grafana a task role"),
    # issue 11: the deploy role kept the gate's read-only statements after the smoke role took them
    ("iam_least_privilege", "smoke-reads-on-deploy-role",
     [(IAM_MAIN, '    actions   = ["ecs:DescribeServices"]\n    resources = [local.services_arn]',
       '    actions   = ["ecs:DescribeServices", "ecs:ListTasks", "elasticloadbalancing:DescribeTargetHealth"]\n'
       '    resources = [local.services_arn]')],
     "deploy role carries the smoke gate's reads (ecs:ListTasks, elasticloadbalancing:DescribeTargetHealth)"),
    ("iam_least_privilege", "oidc-provider-flag-not-wired",
     [("infra/terraform/environments/prod/02-iam/main.tf",
       "  create_github_oidc_provider = var.create_github_oidc_provider\n", "")],
     "02-iam does not pass create_github_oidc_provider"),
    # issue 21: Mimir's Alertmanager pages through SNS with its task role, and can do nothing else there
    ("iam_least_privilege", "publish-to-any-topic",
     [(IAM_PAGING, "resources = [aws_sns_topic.page.arn]", 'resources = ["*"]')],
     "statement PublishPagesToTheAlertsTopic publishes to ['*']: only the alerts topic's own ARN"),
    ("iam_least_privilege", "subscribe-too",
     [(IAM_PAGING, 'actions   = ["sns:Publish"]', 'actions   = ["sns:Publish", "sns:Subscribe"]')],
     "allows sns:Publish, sns:Subscribe: the only SNS right is sns:Publish"),
    ("iam_least_privilege", "every-backend-pages",
     [(IAM_PAGING, 'role   = aws_iam_role.task["mimir"].id', "role   = aws_iam_role.task[\"loki\"].id")],
     """is attached to ['${aws_iam_role.task["loki"].id}']: only Mimir's task role"""),
    ("iam_least_privilege", "grant-attached-nowhere",
     [(IAM_PAGING, 'policy = data.aws_iam_policy_document.mimir_page.json', 'policy = "{}"')],
     "statement PublishPagesToTheAlertsTopic is attached to no role"),
    ("iam_least_privilege", "nobody-may-publish",
     [(IAM_PAGING, 'actions   = ["sns:Publish"]', 'actions   = ["sqs:SendMessage"]')],
     "makes the alerts topic but no role may publish to it"),
    # issue 20: the smoke role's one write is its verdict, in the namespace the deploy alarms watch
    ("smoke_role_writes_only_its_verdict", "no-namespace-condition",
     [(IAM_SMOKE, NAMESPACE_CONDITION, "")],
     "statement SmokeVerdictMetric allows cloudwatch:PutMetricData without a cloudwatch:namespace condition"),
    ("smoke_role_writes_only_its_verdict", "any-namespace",
     [(IAM_SMOKE, NAMESPACE_CONDITION, NAMESPACE_CONDITION.replace('"StringEquals"', '"StringLike"')
       .replace("[var.smoke_metric_namespace]", '["*"]'))],
     "scopes cloudwatch:PutMetricData to cloudwatch:namespace [('StringLike', ['*'])]; it must be StringEquals"),
    ("smoke_role_writes_only_its_verdict", "cloudwatch-wildcard",
     [(IAM_SMOKE, 'actions   = ["cloudwatch:PutMetricData"]', 'actions   = ["cloudwatch:*"]')],
     "statement SmokeVerdictMetric lets the smoke role write: cloudwatch:*"),
    ("smoke_role_writes_only_its_verdict", "alarms-namespace-hard-coded",
     [(ECS_COMP, "smoke_metric_namespace            = var.smoke_metric_namespace",
       'smoke_metric_namespace            = "LGTM/Deploy"')],
     "60-ecs passes smoke_metric_namespace = 'LGTM/Deploy' to modules/ecs; it must be var.smoke_metric_namespace"),
    ("smoke_role_writes_only_its_verdict", "role-namespace-hard-coded",
     [(IAM_COMP, "smoke_metric_namespace = var.smoke_metric_namespace", 'smoke_metric_namespace = "LGTM/Deploy"')],
     "02-iam passes smoke_metric_namespace = 'LGTM/Deploy' to modules/iam"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
