# Paging: Mimir's Alertmanager (target all,alertmanager) publishes every alert of the stack tenant
# to this topic, and on-call subscribes to it (docs/runbook.md "The canary (alerts)": who gets what).
# Its tenant config ships in the Mimir image (infra/images/mimir/Dockerfile, build-arg PAGE_TOPIC_ARN,
# which deploy-ecs.yaml composes from this name), so paging needs no API call at run time.
#
# The topic lives here, beside the one grant that may publish to it, so the grant names exactly
# this topic's ARN; like every 02-iam change, it is applied by an administrator.
resource "aws_sns_topic" "page" {
  name              = "${var.name}-alerts"
  display_name      = "LGTM alerts"
  kms_master_key_id = "alias/aws/sns" # the AWS-managed key: same-account publishers need no key policy
}

# Mimir's task role may publish to that topic and nothing else (sigv4 with the task role's
# credentials, Alertmanager's sns_configs): no Subscribe, no topic management, no other topic.
data "aws_iam_policy_document" "mimir_page" {
  statement {
    sid       = "PublishPagesToTheAlertsTopic"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.page.arn]
  }
}

resource "aws_iam_role_policy" "mimir_page" {
  name   = "mimir-publish-alerts"
  role   = aws_iam_role.task["mimir"].id
  policy = data.aws_iam_policy_document.mimir_page.json
}
