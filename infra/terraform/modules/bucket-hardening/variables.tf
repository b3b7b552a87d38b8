variable "bucket" {
  description = "Name (id) of the bucket to harden; the caller creates it."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the same bucket (the TLS-only policy covers it and its objects)."
  type        = string
}

variable "sse_algorithm" {
  description = "Default encryption: aws:kms (the aws/s3 key, with a bucket key) or AES256 (SSE-S3, the only one ELB access-log delivery writes to)."
  type        = string

  validation {
    condition     = contains(["aws:kms", "AES256"], var.sse_algorithm)
    error_message = "sse_algorithm is aws:kms or AES256."
  }
}

variable "policy_documents" {
  description = "Policy documents (JSON) the bucket policy also holds, e.g. who may write; the TLS-only deny is added to them."
  type        = list(string)
  default     = []
}
