output "state_bucket" {
  description = "Bucket of the components' state."
  value       = aws_s3_bucket.state.bucket
}

output "state_lock_table" {
  description = "DynamoDB lock table."
  value       = aws_dynamodb_table.lock.name
}
