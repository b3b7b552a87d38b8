output "bucket_name" {
  description = "bucket name"
  value       = module.s3.bucket_name
}

output "bucket_arn" {
  description = "bucket arn"
  value       = module.s3.bucket_arn
}
