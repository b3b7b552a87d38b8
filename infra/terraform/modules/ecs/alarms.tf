# The deploy rollback signal. The smoke gate publishes, per service, how many of that
# service's checks failed (lgtm_smoke/verdict/cloudwatch.py: <namespace>/FailedChecks
# {Service, Source=deploy}; 0 when healthy, nothing when it could not check the service). Each
# service's deployment names its alarm (aws_ecs_service.service `alarms`, rollback on): an alarm
# that goes to ALARM while the deployment is IN_PROGRESS (rollout + bake time) fails it and ECS
# returns the service to its previous deployment. Timing: docs/infra.md "Rollback timing".
#
# Maximum > 0 over one 60 s period: one failed check in one run is enough (the suite retries
# transient answers itself). Missing data is not breaching: a run that could not check a
# service, and every minute between deploys, must never roll anything back. Only the deploy
# series: the canary publishes Source=canary, which no deploy alarm reads.
resource "aws_cloudwatch_metric_alarm" "smoke" {
  for_each            = var.service_config
  alarm_name          = "${var.name}-smoke-${each.key}"
  alarm_description   = "lgtm-smoke deploy gate: ${each.key} checks failed during a deployment; ECS rolls ${each.key} back (docs/runbook.md, rollback)."
  namespace           = var.smoke_metric_namespace
  metric_name         = "FailedChecks"
  dimensions          = { Service = each.key, Source = "deploy" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
}
