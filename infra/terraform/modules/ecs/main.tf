resource "aws_ecs_cluster" "this" {
  name = var.cluster_name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_ecs_task_definition" "service" {
  # checkov:skip=CKV_AWS_336:the backends write WAL, TSDB heads and caches to the task's ephemeral root filesystem
  for_each                 = var.service_config
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(each.value.cpu)
  memory                   = tostring(each.value.memory)
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = lookup(var.task_role_arns, each.key, null)

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name        = each.key
      image       = "${var.image_repositories[each.key]}:${var.image_tags[each.key]}"
      essential   = true
      stopTimeout = each.value.stop_timeout
      portMappings = [
        for p in local.service_ports[each.key] : {
          name          = "${each.key}-${p}"
          containerPort = p
          protocol      = "tcp"
        }
      ]
      environment = [
        for k, v in merge(local.common_env, local.service_env[each.key]) : { name = k, value = v }
      ]
      secrets = [
        for k, arn in lookup(local.service_secrets, each.key, {}) : { name = k, valueFrom = arn }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = var.log_group_names[each.key]
          awslogs-region        = var.aws_region
          awslogs-stream-prefix = each.key
        }
      }
    }
  ])
}

resource "aws_ecs_service" "service" {
  for_each               = var.service_config
  name                   = each.key
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.service[each.key].arn
  desired_count          = each.value.desired_count
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  enable_execute_command = false
  propagate_tags         = "SERVICE"
  # false: the apply returns while the deployment is IN_PROGRESS, so the smoke gate runs inside
  # the alarm's monitoring window (with true, provider 6.x returns only once the deployment is
  # SUCCESSFUL, i.e. after the bake: too late for the verdict to roll anything back). The
  # deploy workflow waits for SUCCESSFUL or ROLLBACK_* itself (docs/infra.md "Rollback timing").
  wait_for_steady_state = false

  # Every service behind the ALB gets a grace period, so health checks do not kill a
  # task that is still starting (2026-01-16 04:15: SIGTERM every ~5 minutes).
  health_check_grace_period_seconds = length(local.service_target_groups[each.key]) > 0 ? var.health_check_grace_period_seconds : null

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Tasks that start and pass health checks can still be broken (a Loki that drops the tenant
  # header): the smoke verdict's alarm (alarms.tf) fails such a deployment and rolls it back.
  alarms {
    alarm_names = [aws_cloudwatch_metric_alarm.smoke[each.key].alarm_name]
    enable      = true
    rollback    = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = local.service_target_groups[each.key]
    content {
      target_group_arn = var.target_group_arns[load_balancer.key]
      container_name   = each.key
      container_port   = load_balancer.value.port
    }
  }

  service_registries {
    registry_arn = var.cloudmap_service_arns[each.key]
  }

  depends_on = [aws_ecs_cluster_capacity_providers.this]
}
