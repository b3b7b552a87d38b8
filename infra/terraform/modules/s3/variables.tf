variable "bucket" {
  description = "Name of the LGTM data bucket."
  type        = string
}

variable "storage_prefixes" {
  description = "Object prefix per backend (lifecycle rules are set per prefix)."
  type        = map(string)
}

variable "noncurrent_cleanup_days" {
  description = "Days before incomplete multipart uploads are aborted."
  type        = number
  default     = 7
}
