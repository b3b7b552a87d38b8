"""Each check about ECS on Fargate (infra/preflight/ecs.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import ALB_COMP, ECS_ALARMS, ECS_LOCALS, ECS_MAIN, MIMIR, TFVARS

pytestmark = pytest.mark.preflight

ALARMS_BLOCK = """  alarms {
    alarm_names = [aws_cloudwatch_metric_alarm.smoke[each.key].alarm_name]
    enable      = true
    rollback    = true
  }
"""

SMOKE_ALARM_HEADER = 'resource "aws_cloudwatch_metric_alarm" "smoke" {'
CPU_ALARM = """resource "aws_cloudwatch_metric_alarm" "cpu" {
  for_each            = var.service_config
  alarm_name          = "${var.name}-cpu-${each.key}"
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  dimensions          = { ServiceName = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 90
  comparison_operator = "GreaterThanThreshold"
}

"""

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # 2026-01-15 24:00: +50 % memory -> 512/1536 and 256/768
    ("fargate_cpu_memory_valid", "loki-512-1536",
     [(TFVARS, "cpu            = 512\n    memory         = 2048\n    desired_count  = 1\n    container_port = 3100",
       "cpu            = 512\n    memory         = 1536\n    desired_count  = 1\n    container_port = 3100")],
     "No Fargate configuration exists for 512 CPU, 1536 memory"),
    ("fargate_cpu_memory_valid", "alloy-256-768",
     [(TFVARS, "cpu            = 256\n    memory         = 1024", "cpu            = 256\n    memory         = 768")],
     "256 CPU, 768 memory"),
    # 2026-01-16 04:15
    ("grace_period_long_enough", "grace-zero",
     [(TFVARS, "health_check_grace_period_seconds = 120", "health_check_grace_period_seconds = 0")],
     "health_check_grace_period_seconds = 0; it must be >= 60"),
    ("grace_period_long_enough", "grace-30s",
     [(TFVARS, "health_check_grace_period_seconds = 120", "health_check_grace_period_seconds = 30")],
     "health_check_grace_period_seconds = 30; it must be >= 60"),
    ("grace_period_long_enough", "grace-not-wired",
     [(ECS_MAIN, "  health_check_grace_period_seconds = length(local.service_target_groups[each.key]) > 0 "
                 "? var.health_check_grace_period_seconds : null\n", "")],
     "sets no health_check_grace_period_seconds"),
    # 2026-01-15 19:00
    ("deregistration_delay_le_stop_timeout", "drain-longer-than-stop",
     [(ALB_COMP, "deregistration_delay = min([for s in values(var.service_config) : s.stop_timeout]...)",
       "deregistration_delay = 300")],
     "deregistration_delay 300 s > grafana stop_timeout 120 s"),
    # issue 11 item 5 (its mutations): a memcached host written by hand
    ("memcached_endpoint_from_elasticache", "memcached-host-in-task",
     [(ECS_LOCALS, "      MEMCACHED_ENDPOINT   = var.memcached_endpoint",
       '      MEMCACHED_ENDPOINT   = "lgtm-prod-memcached.x1y2z3.cfg.apne2.cache.amazonaws.com:11211"')],
     "task definition sets MEMCACHED_ENDPOINT='lgtm-prod-memcached.x1y2z3.cfg.apne2.cache.amazonaws.com:11211'"),
    ("memcached_endpoint_from_elasticache", "memcached-host-in-config",
     [(MIMIR, "        addresses: ${MEMCACHED_ENDPOINT}", "        addresses: ftt-mimir-memcache:11211")],
     "hard-codes the memcached host ftt-mimir-memcache:11211"),
    # issue 20: each service's deployment rolls back on its own smoke alarm
    ("ecs_services_roll_back_on_smoke_alarm", "alarms-block-removed",
     [(ECS_MAIN, ALARMS_BLOCK, "")],
     "aws_ecs_service.service has no top-level `alarms` block"),
    ("ecs_services_roll_back_on_smoke_alarm", "alarms-disabled",
     [(ECS_MAIN, "    enable      = true\n    rollback    = true", "    enable      = false\n    rollback    = true")],
     "alarms enable = False; it must be true"),
    ("ecs_services_roll_back_on_smoke_alarm", "alarms-without-rollback",
     [(ECS_MAIN, "    enable      = true\n    rollback    = true", "    enable      = true\n    rollback    = false")],
     "alarms rollback = False; it must be true"),
    ("ecs_services_roll_back_on_smoke_alarm", "another-service-alarm",
     [(ECS_MAIN, "aws_cloudwatch_metric_alarm.smoke[each.key].alarm_name",
       'aws_cloudwatch_metric_alarm.smoke["loki"].alarm_name')],
     """alarms names ['${aws_cloudwatch_metric_alarm.smoke["loki"].alarm_name}']; it must name the service's own"""),
    ("ecs_services_roll_back_on_smoke_alarm", "another-alarm",
     [(ECS_MAIN, "alarm_names = [aws_cloudwatch_metric_alarm.smoke[each.key].alarm_name]",
       'alarm_names = ["${var.name}-cpu-high"]')],
     "alarms names ['${var.name}-cpu-high']; it must name the service's own smoke alarm"),
    ("ecs_services_roll_back_on_smoke_alarm", "cpu-alarm",
     [(ECS_MAIN, "aws_cloudwatch_metric_alarm.smoke[each.key].alarm_name",
       "aws_cloudwatch_metric_alarm.cpu[each.key].alarm_name"),
      (ECS_ALARMS, SMOKE_ALARM_HEADER, CPU_ALARM + SMOKE_ALARM_HEADER)],
     "alarms names ['${aws_cloudwatch_metric_alarm.cpu[each.key].alarm_name}']; it must name the service's own smoke alarm"),
    # issue 20: the alarm reads the deploy verdict, and missing data never rolls back
    ("smoke_alarm_watches_deploy_verdict", "missing-data-breaching",
     [(ECS_ALARMS, 'treat_missing_data  = "notBreaching"', 'treat_missing_data  = "breaching"')],
     "aws_cloudwatch_metric_alarm.smoke treat_missing_data = 'breaching'; it must be \"notBreaching\""),
    ("smoke_alarm_watches_deploy_verdict", "missing-data-missing",
     [(ECS_ALARMS, 'treat_missing_data  = "notBreaching"', 'treat_missing_data  = "missing"')],
     "treat_missing_data = 'missing'; it must be \"notBreaching\""),
    ("smoke_alarm_watches_deploy_verdict", "missing-data-default",
     [(ECS_ALARMS, '  treat_missing_data  = "notBreaching"\n', "")],
     "treat_missing_data = 'missing' (not set: AWS's default)"),
    ("smoke_alarm_watches_deploy_verdict", "canary-series",
     [(ECS_ALARMS, 'Source = "deploy"', 'Source = "canary"')],
     "dimensions = {'Service': '${each.key}', 'Source': 'canary'}; it must be {Service = each.key, Source = \"deploy\"}"),
    ("smoke_alarm_watches_deploy_verdict", "no-source",
     [(ECS_ALARMS, '{ Service = each.key, Source = "deploy" }', "{ Service = each.key }")],
     "dimensions = {'Service': '${each.key}'}; it must be"),
    ("smoke_alarm_watches_deploy_verdict", "minimum",
     [(ECS_ALARMS, 'statistic           = "Maximum"', 'statistic           = "Minimum"')],
     "statistic = 'Minimum'; it must be 'Maximum'"),
    ("smoke_alarm_watches_deploy_verdict", "threshold-one",
     [(ECS_ALARMS, "threshold           = 0", "threshold           = 1")],
     "threshold = 1; it must be 0"),
    ("smoke_alarm_watches_deploy_verdict", "greater-or-equal",
     [(ECS_ALARMS, '"GreaterThanThreshold"', '"GreaterThanOrEqualToThreshold"')],
     "comparison_operator = 'GreaterThanOrEqualToThreshold'; it must be 'GreaterThanThreshold'"),
    # issue 20: the apply returns while the deployment is IN_PROGRESS
    ("no_steady_state_wait_with_rollback_alarm", "waits-for-steady-state",
     [(ECS_MAIN, "wait_for_steady_state = false", "wait_for_steady_state = true")],
     "aws_ecs_service.service wait_for_steady_state = True; it must be false with rollback alarms"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
