# The smoke gate's role (lgtm_smoke/aws, assumed by every workflow's smoke-gate job through
# OIDC): read-only. Exactly the calls the AWS checks and their evidence make, plus the two
# secrets the gate reads at run time, and its one write: the verdict per service into the
# smoke namespace (--publish-cloudwatch), which the deploy alarms watch. tests/aws parses
# the statements below and runs the whole AWS suite against IAM-enforcing moto as a principal holding exactly them, so an
# action missing here fails its check there, naming the action and this role.

locals {
  smoke_log_groups = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/ecs/${var.name}/*"
  # The two secrets the gate reads at run time, both made in this module (main.tf,
  # edge_secret.tf). Not a variable: 02-iam never passed one, so the edge secret was left
  # out of the policy and the gate's get-secret-value of it would have been denied.
  smoke_secrets = [aws_secretsmanager_secret.grafana_admin.arn, aws_secretsmanager_secret.edge.arn]
}

data "aws_iam_policy_document" "smoke" {
  # checkov:skip=CKV_AWS_356:Describe/List of ECS, ELBv2, ElastiCache and Cloud Map find the stack's resources by name and change nothing; most have no resource-level permissions
  statement {
    sid = "SmokeDescribe"
    actions = [
      "ecs:DescribeClusters",
      "ecs:DescribeServiceDeployments",
      "ecs:DescribeServiceRevisions",
      "ecs:DescribeServices",
      "ecs:DescribeTaskDefinition",
      "ecs:DescribeTasks",
      "ecs:ListServiceDeployments",
      "ecs:ListServices",
      "ecs:ListTasks",
      "elasticache:DescribeCacheClusters",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
      "servicediscovery:GetInstancesHealthStatus",
      "servicediscovery:GetNamespace",
      "servicediscovery:GetService",
      "servicediscovery:ListInstances",
    ]
    resources = ["*"]
  }
  statement {
    sid = "SmokeBuckets"
    actions = [
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketVersioning",
      "s3:GetEncryptionConfiguration",
      "s3:ListBucket",
    ]
    resources = [local.data_bucket_arn, "arn:${local.partition}:s3:::${var.state_bucket}"]
  }
  statement {
    sid       = "SmokeLogs"
    actions   = ["logs:GetLogEvents"]
    resources = [local.smoke_log_groups, "${local.smoke_log_groups}:*"]
  }
  statement {
    sid       = "SmokeSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.smoke_secrets
  }
  statement {
    # PutMetricData has no resource-level permissions: Resource must be "*", and the
    # cloudwatch:namespace condition key is how AWS scopes it (CloudWatch User Guide,
    # "Using condition keys to limit access to CloudWatch namespaces"). Only this namespace:
    # the gate can neither feed another alarm nor write into AWS/*.
    sid       = "SmokeVerdictMetric"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.smoke_metric_namespace]
    }
  }
}

resource "aws_iam_role" "smoke" {
  name               = "${var.name}-smoke"
  description        = "Read-only: the post-deploy smoke gate's AWS checks."
  assume_role_policy = data.aws_iam_policy_document.github_assume.json
}

resource "aws_iam_role_policy" "smoke" {
  name   = "smoke-read-only"
  role   = aws_iam_role.smoke.id
  policy = data.aws_iam_policy_document.smoke.json
}

output "smoke_role_arn" {
  description = "Role every smoke-gate job assumes through OIDC (read-only)."
  value       = aws_iam_role.smoke.arn
}

output "smoke_policy_json" {
  description = "The smoke role's read-only statements: the smoke canary's task role (70-smoke-canary) holds exactly them too."
  value       = data.aws_iam_policy_document.smoke.json
}
