# The LGTM data bucket. Versioning is OFF on purpose: the backends manage their own
# objects and retention, and a versioned bucket cannot be destroyed without deleting
# every version first (2026-01-16 05:30, BucketNotEmpty). Only the state bucket
# (00-bootstrap) is versioned.
resource "aws_s3_bucket" "data" {
  # checkov:skip=CKV_AWS_21:versioning is deliberately off for backend data (2026-01-16 05:30 BucketNotEmpty on destroy); the state bucket is versioned
  # checkov:skip=CKV_AWS_18:access logs for a machine-only data bucket would double the request volume; CloudTrail data events cover audits
  # checkov:skip=CKV_AWS_144:cross-region replication is not required for observability data
  # checkov:skip=CKV2_AWS_62:no consumer for event notifications on backend chunks
  bucket        = var.bucket
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Disabled"
  }
}

# SSE-KMS (the aws/s3 key, with a bucket key), no public access, ACLs off, TLS only.
module "data_hardening" {
  source        = "../bucket-hardening"
  bucket        = aws_s3_bucket.data.id
  bucket_arn    = aws_s3_bucket.data.arn
  sse_algorithm = "aws:kms"
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = var.noncurrent_cleanup_days
    }
  }

  # Retention itself is the backends' job (compactors delete blocks); objects are only
  # moved to a cheaper class once they are old enough to be rarely read.
  dynamic "rule" {
    for_each = var.storage_prefixes
    content {
      id     = "${rule.key}-infrequent-access"
      status = "Enabled"
      filter {
        prefix = "${rule.value}/"
      }
      transition {
        days          = 30
        storage_class = "STANDARD_IA"
      }
    }
  }
}

# The hardening moved into modules/bucket-hardening: these keep the same resources in place
# instead of recreating them (drop them once every environment has applied this).
moved {
  from = aws_s3_bucket_server_side_encryption_configuration.data
  to   = module.data_hardening.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_public_access_block.data
  to   = module.data_hardening.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.data
  to   = module.data_hardening.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_policy.data
  to   = module.data_hardening.aws_s3_bucket_policy.this
}
