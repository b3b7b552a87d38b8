# The smoke canary (component 70-smoke-canary): the smoke suite run every canary_interval_minutes
# as a one-off Fargate task (EventBridge Scheduler → ecs:RunTask), in the stack's private subnets,
# reaching the stack the way clients do: through the ALB's public name (docs/infra.md "The canary":
# network path, cost). Each run pushes its outcome to Mimir (--push-results), where the ruler's
# canary rules page.
#
# Scheduler and ECS have no overlap guard and no task timeout: the container's own deadline
# (canary_deadline_seconds, well inside the interval) ends every run before the next tick, and
# a retried start may come at most (interval - deadline) late, so it too ends before the next.

locals {
  canary    = "${var.name}-smoke-canary"
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id
  # A late start (Scheduler's retry) must still end before the next tick.
  max_event_age_seconds = max(60, var.canary_interval_minutes * 60 - var.canary_deadline_seconds)
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

# --- log group --------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "canary" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs' default service-side encryption; no customer KMS key in this stack
  # checkov:skip=CKV_AWS_338:retention is log_retention_days from common.tfvars (cost choice); the verdicts are also in Mimir
  name              = "/ecs/${var.name}/smoke-canary"
  retention_in_days = var.log_retention_days
}

# --- security group: nothing in; out only to HTTPS (ALB through the NAT, ECR, Logs, Secrets
# Manager, CloudWatch, ECS/ELBv2/... APIs) and HTTP (the ALB's redirect check) --------------------
resource "aws_security_group" "canary" {
  # checkov:skip=CKV2_AWS_5:attached to each canary task by the schedule's network_configuration (RunTask), not to a resource
  name        = "${var.name}-smoke-canary"
  description = "LGTM smoke canary task: outbound only"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS: the ALB (by its public name, through the NAT) and the AWS APIs"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "HTTP: the ALB's plain listener, which the suite checks redirects to HTTPS"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# --- roles --------------------------------------------------------------------------------------
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

# Task role: exactly the smoke gate's read-only statements (02-iam, proven in tests/aws against
# IAM-enforcing moto), plus putting metrics in one namespace.
data "aws_iam_policy_document" "task" {
  source_policy_documents = [var.smoke_policy_json]
  statement {
    sid       = "CanaryMetricsOwnNamespace"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions; the namespace condition scopes it
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.smoke_metric_namespace]
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-smoke-canary-task"
  description        = "The smoke canary's task: read-only as the smoke gate, metrics in ${var.smoke_metric_namespace} only."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "task" {
  name   = "smoke-read-only-and-own-metrics"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# Execution role: pull the image, write the log group, and inject the two secrets the suite
# reads (Grafana admin password, ALB edge secret) as environment variables.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-smoke-canary-execution"
  description        = "ECS agent for the smoke canary task: image pull, logs, its two secrets."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      var.grafana_admin_secret_arn,
      var.edge_secret_arn,
    ]
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-smoke-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

# Scheduler's role (AmazonEC2ContainerServiceEventsRole's actions, narrowed): run this task
# definition in this cluster, and pass exactly the two roles of the task.
data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:scheduler:${data.aws_region.current.region}:${local.account}:schedule/default/${local.canary}"]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "RunCanaryTask"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${local.partition}:ecs:${data.aws_region.current.region}:${local.account}:task-definition/${local.canary}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }
  statement {
    sid       = "PassCanaryRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringLike"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-smoke-canary-scheduler"
  description        = "EventBridge Scheduler: start the smoke canary task."
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-smoke-canary"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# --- task definition ----------------------------------------------------------------------------
resource "aws_ecs_task_definition" "canary" {
  # checkov:skip=CKV_AWS_336:pytest and the suite write temporary files (tmp dirs, trace files of a suite bug) under /tmp
  family                   = local.canary
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name      = "smoke-canary"
      image     = var.image
      essential = true
      command   = ["canary", "--once", "--deadline", tostring(var.canary_deadline_seconds)]
      environment = [
        { name = "LGTM_ALB", value = "https://${var.alb_hostname}" },
        { name = "AWS_REGION", value = data.aws_region.current.region },
        # the verdict per service into CloudWatch, under Source=canary (lgtm-smoke canary passes it):
        # the canary's own series, never the deploy alarms' Source=deploy
        { name = "LGTM_PUBLISH_CLOUDWATCH", value = "1" },
        { name = "LGTM_CLOUDWATCH_NAMESPACE", value = var.smoke_metric_namespace },
      ]
      secrets = [
        { name = "LGTM_GRAFANA_PASSWORD", valueFrom = var.grafana_admin_secret_arn },
        { name = "LGTM_EDGE_SECRET", valueFrom = var.edge_secret_arn },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.canary.name
          awslogs-region        = data.aws_region.current.region
          awslogs-stream-prefix = "canary"
        }
      }
    }
  ])
}

# --- schedule -----------------------------------------------------------------------------------
resource "aws_scheduler_schedule" "canary" {
  # checkov:skip=CKV_AWS_297:the schedule holds no secret (task definition, subnets, group); AWS-owned key encryption suffices
  name                = local.canary
  description         = "Run the LGTM smoke suite every ${var.canary_interval_minutes} minutes (docs/infra.md, The canary)"
  schedule_expression = "rate(${var.canary_interval_minutes} minutes)"
  state               = var.canary_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.cluster_arn
    role_arn = aws_iam_role.scheduler.arn

    retry_policy {
      maximum_event_age_in_seconds = local.max_event_age_seconds
      maximum_retry_attempts       = 1
    }

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.canary.arn
      launch_type         = "FARGATE"
      platform_version    = "1.4.0"
      group               = "smoke-canary"
      task_count          = 1

      network_configuration {
        subnets          = var.private_subnet_ids
        security_groups  = [aws_security_group.canary.id]
        assign_public_ip = false
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.canary_deadline_seconds > 0 && var.canary_deadline_seconds + 60 <= var.canary_interval_minutes * 60
      error_message = "canary_deadline_seconds must leave at least a minute of canary_interval_minutes: a run (or a late retry) must end before the next one starts."
    }
  }
}
