data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region
  oidc_host = "token.actions.githubusercontent.com"

  data_bucket_arn = "arn:${local.partition}:s3:::${var.data_bucket}"
  ecr_repos_arn   = "arn:${local.partition}:ecr:${local.region}:${local.account}:repository/${var.project_name}/*"
  cluster_arn     = "arn:${local.partition}:ecs:${local.region}:${local.account}:cluster/${var.ecs_cluster_name}"
  services_arn    = "arn:${local.partition}:ecs:${local.region}:${local.account}:service/${var.ecs_cluster_name}/*"
  # deploy-ecs.yaml writes the tag it pushed; 60-ecs reads it into the task definitions.
  image_tag_params = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/${var.project_name}/${var.environment}/image-tag/*"
}

# ---------------------------------------------------------------- ECS roles
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# Execution role: pull images, write logs, read the Grafana admin secret.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.grafana_admin.arn]
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-grafana-admin-secret"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

# Task roles: one per backend, each limited to its own prefix of the data bucket (plus the
# cluster-seed object some write at the bucket root), so no backend can read or overwrite
# another's blocks. Grafana and Alloy make no AWS calls of their own: no task role at all.
locals {
  task_prefixes = { for svc, prefix in var.storage_prefixes : svc => prefix if contains(var.backends, svc) }
}

resource "aws_iam_role" "task" {
  for_each           = local.task_prefixes
  name               = "${var.name}-ecs-task-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  for_each = local.task_prefixes
  statement {
    sid       = "ListOwnPrefix"
    actions   = ["s3:ListBucket"]
    resources = [local.data_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [each.value, "${each.value}/*"]
    }
  }
  statement {
    sid       = "BucketLocation"
    actions   = ["s3:GetBucketLocation"]
    resources = [local.data_bucket_arn]
  }
  statement {
    sid     = "OwnPrefixObjects"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${local.data_bucket_arn}/${each.value}/*",
      "${local.data_bucket_arn}/${each.key}_cluster_seed.json",
    ]
  }
}

resource "aws_iam_role_policy" "task" {
  for_each = local.task_prefixes
  name     = "${each.key}-data-prefix"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.task[each.key].json
}

# ---------------------------------------------------------------- Grafana admin secret
resource "random_password" "grafana_admin" {
  length  = 32
  special = false
}

resource "aws_secretsmanager_secret" "grafana_admin" {
  # checkov:skip=CKV_AWS_149:encrypted with the account's aws/secretsmanager key; no customer KMS key in this stack
  # checkov:skip=CKV2_AWS_57:rotating the Grafana admin password needs a Grafana API call; rotate by tainting random_password
  name                    = "${var.name}/grafana/admin-password"
  description             = "Grafana admin password, injected as GF_SECURITY_ADMIN_PASSWORD."
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "grafana_admin" {
  secret_id     = aws_secretsmanager_secret.grafana_admin.id
  secret_string = random_password.grafana_admin.result
}

# ---------------------------------------------------------------- GitHub OIDC
resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_github_oidc_provider ? 1 : 0
  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1
  url   = "https://${local.oidc_host}"
}

locals {
  oidc_provider_arn = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

data "aws_iam_policy_document" "github_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
    # Only jobs in the production environment, which GitHub lets run on the default
    # branch only (its deployment branch policy, docs/infra.md): no other branch, pull
    # request or environment can assume any role of this stack.
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]
    }
  }
}

# Deploy role (deploy-ecs.yaml build and wait jobs): push images to this project's
# repositories, publish the pushed tag, watch the services settle. The smoke gate has a
# read-only role of its own (smoke.tf). Rolling the services is a
# `terraform apply` of 60-ecs under the Terraform role, so task definitions never drift.
resource "aws_iam_role" "github_deploy" {
  name               = "${var.name}-github-deploy"
  assume_role_policy = data.aws_iam_policy_document.github_assume.json
}

data "aws_iam_policy_document" "github_deploy" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "EcrPush"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [local.ecr_repos_arn]
  }
  statement {
    sid       = "PublishImageTags"
    actions   = ["ssm:PutParameter"] # `aws ssm put-parameter --overwrite`; 60-ecs reads them as the Terraform role
    resources = [local.image_tag_params]
  }
  statement {
    sid       = "WaitForServices"
    actions   = ["ecs:DescribeServices"]
    resources = [local.services_arn]
  }
}

resource "aws_iam_role_policy" "github_deploy" {
  name   = "deploy-ecs"
  role   = aws_iam_role.github_deploy.id
  policy = data.aws_iam_policy_document.github_deploy.json
}

# Terraform role (terraform.yaml): state access plus the services this stack is made of,
# IAM limited to roles and policies named after this stack.
resource "aws_iam_role" "github_terraform" {
  name               = "${var.name}-github-terraform"
  assume_role_policy = data.aws_iam_policy_document.github_assume.json
}

data "aws_iam_policy_document" "github_terraform" {
  # checkov:skip=CKV_AWS_111:write actions on not-yet-existing VPC/ALB/ECS/ElastiCache/Cloud Map resources cannot be ARN-scoped
  # checkov:skip=CKV_AWS_356:same: create-type actions have no ARN before apply; IAM and S3 statements are ARN-scoped
  # checkov:skip=CKV_AWS_108:s3 and secretsmanager reads are limited to this stack's buckets and secret
  # checkov:skip=CKV_AWS_109:iam:* is limited to roles/policies named <project>-<env>-*
  # checkov:skip=CKV_AWS_107:secretsmanager:* manages the stack's own Grafana secret; no IAM credential actions
  statement {
    sid     = "State"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketVersioning"]
    resources = [
      "arn:${local.partition}:s3:::${var.state_bucket}",
      "arn:${local.partition}:s3:::${var.state_bucket}/*",
      "arn:${local.partition}:s3:::${var.bootstrap_state_bucket}",
      "arn:${local.partition}:s3:::${var.bootstrap_state_bucket}/*",
    ]
  }
  statement {
    sid       = "Lock"
    actions   = ["dynamodb:*"]
    resources = ["arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${var.state_lock_table}"]
  }
  statement {
    sid     = "StackBuckets"
    actions = ["s3:*"]
    resources = [
      local.data_bucket_arn,
      "${local.data_bucket_arn}/*",
      "arn:${local.partition}:s3:::${var.state_bucket}",
    ]
  }
  statement {
    sid = "StackServices"
    actions = [
      "ec2:*",
      "ecs:*",
      "ecr:*",
      "elasticache:*",
      "elasticloadbalancing:*",
      "logs:*",
      "servicediscovery:*",
      "route53:*",
      "scheduler:*", # 70-smoke-canary's schedule
      "secretsmanager:*",
      "sts:GetCallerIdentity",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "ImageTags"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:ListTagsForResource"]
    resources = [local.image_tag_params]
  }
  statement {
    sid       = "DescribeParameters"
    actions   = ["ssm:DescribeParameters"]
    resources = ["*"]
  }
  statement {
    sid     = "StackIam"
    actions = ["iam:*"]
    resources = [
      "arn:${local.partition}:iam::${local.account}:role/${var.name}-*",
      "arn:${local.partition}:iam::${local.account}:policy/${var.name}-*",
    ]
  }
  statement {
    sid       = "AwsManagedKeysViaServices"
    actions   = ["kms:DescribeKey", "kms:CreateGrant", "kms:RetireGrant"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "ecr.${local.region}.amazonaws.com",
        "s3.${local.region}.amazonaws.com",
        "secretsmanager.${local.region}.amazonaws.com",
      ]
    }
  }
  # No role may change its own policy: this role manages the stack's roles, but never
  # itself nor the OIDC provider that trusts GitHub (02-iam changes to it are applied by
  # an administrator, docs/infra.md "bootstrap").
  statement {
    sid    = "NoChangesToItself"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:DeleteRole",
      "iam:DeleteRolePermissionsBoundary",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${var.name}-github-terraform"]
  }
  statement {
    sid    = "NoChangesToTheOidcTrust"
    effect = "Deny"
    actions = [
      "iam:AddClientIDToOpenIDConnectProvider",
      "iam:CreateOpenIDConnectProvider",
      "iam:DeleteOpenIDConnectProvider",
      "iam:RemoveClientIDFromOpenIDConnectProvider",
      "iam:UpdateOpenIDConnectProviderThumbprint",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/*"]
  }
}

resource "aws_iam_role_policy" "github_terraform" {
  name   = "terraform-apply"
  role   = aws_iam_role.github_terraform.id
  policy = data.aws_iam_policy_document.github_terraform.json
}
