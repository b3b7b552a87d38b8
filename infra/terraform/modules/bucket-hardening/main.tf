# The hardening the stack's buckets share (the data bucket, modules/s3, and the ALB's
# access-log bucket, modules/alb), in one place: no public access, the bucket owner owns
# every object (ACLs off), default encryption, and a bucket policy that refuses plain HTTP.
# The caller creates the bucket itself: its checkov skips say why that bucket goes without
# logging, versioning or KMS, which differs per bucket, and so do versioning and lifecycle.
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = var.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = var.sse_algorithm
    }
    # A bucket key cuts the KMS requests of SSE-KMS; SSE-S3 has none to cut.
    bucket_key_enabled = var.sse_algorithm == "aws:kms" ? true : null
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = var.bucket
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = var.bucket
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# The caller's statements (who may write), then: nothing over plain HTTP.
data "aws_iam_policy_document" "this" {
  source_policy_documents = var.policy_documents
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [var.bucket_arn, "${var.bucket_arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket     = var.bucket
  policy     = data.aws_iam_policy_document.this.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}
