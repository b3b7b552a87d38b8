# ALB access logs: their own bucket and prefix, apart from the backends' data (whose
# task role must never read or overwrite them). ELB writes access logs only to buckets
# encrypted with S3-managed keys (SSE-S3), so this cannot share the data bucket's KMS setup.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_elb_service_account" "this" {}

locals {
  access_logs_bucket = "${var.name}-alb-access-logs-${data.aws_caller_identity.current.account_id}"
  access_logs_arn    = "arn:${data.aws_partition.current.partition}:s3:::${local.access_logs_bucket}"
  access_logs_keys   = "${local.access_logs_arn}/${var.access_logs_prefix}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"
}

resource "aws_s3_bucket" "access_logs" {
  # checkov:skip=CKV_AWS_18:this is the log bucket; logging its own writes would log the logs
  # checkov:skip=CKV_AWS_21:log objects are written once and expire (lifecycle below); versions would only keep expired logs
  # checkov:skip=CKV_AWS_144:access logs are kept for access_logs_days in the stack's region; no cross-region copy needed
  # checkov:skip=CKV_AWS_145:ELB delivers access logs only to SSE-S3 buckets (no KMS)
  # checkov:skip=CKV2_AWS_62:no consumer for event notifications on log objects
  bucket        = local.access_logs_bucket
  force_destroy = true
}

# SSE-S3, no public access, ACLs off, TLS only; the policy also lets ELB's log delivery write.
module "access_logs_hardening" {
  source           = "../bucket-hardening"
  bucket           = aws_s3_bucket.access_logs.id
  bucket_arn       = aws_s3_bucket.access_logs.arn
  sse_algorithm    = "AES256"
  policy_documents = [data.aws_iam_policy_document.access_logs.json]
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {
      prefix = "${var.access_logs_prefix}/"
    }
    expiration {
      days = var.access_logs_days
    }
  }
}

# Only ELB's log delivery may write, only under the prefix (the hardening adds: nothing over plain HTTP).
data "aws_iam_policy_document" "access_logs" {
  statement {
    sid       = "ElbLogDelivery"
    actions   = ["s3:PutObject"]
    resources = [local.access_logs_keys]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }
  statement {
    sid       = "ElbLogDeliveryService"
    actions   = ["s3:PutObject"]
    resources = [local.access_logs_keys]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }
}

# The hardening moved into modules/bucket-hardening: these keep the same resources in place
# instead of recreating them (drop them once every environment has applied this).
moved {
  from = aws_s3_bucket_server_side_encryption_configuration.access_logs
  to   = module.access_logs_hardening.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_public_access_block.access_logs
  to   = module.access_logs_hardening.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.access_logs
  to   = module.access_logs_hardening.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_policy.access_logs
  to   = module.access_logs_hardening.aws_s3_bucket_policy.this
}
