# Terraform state bucket: versioning ON (a state file must be recoverable), unlike the
# data bucket (12-s3), whose versioning stays off.
resource "aws_s3_bucket" "state" {
  # checkov:skip=CKV_AWS_18:state access is audited by CloudTrail; access logs would need a second bucket before bootstrap
  # checkov:skip=CKV_AWS_144:state is small and rebuilt from code; cross-region replication not required
  # checkov:skip=CKV2_AWS_62:no consumer for state-bucket event notifications
  # checkov:skip=CKV2_AWS_61:state objects must never expire; noncurrent versions are kept on purpose
  bucket = var.state_bucket

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_dynamodb_table" "lock" {
  # checkov:skip=CKV_AWS_119:lock items hold no data; the table uses DynamoDB's default encryption
  name         = var.state_lock_table
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}
