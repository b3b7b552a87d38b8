variable "project_name" {
  description = "Project name."
  type        = string
}

variable "environment" {
  description = "Environment name."
  type        = string
}

variable "aws_region" {
  description = "AWS region of every resource and of the state bucket."
  type        = string
}

variable "data_bucket" {
  description = "LGTM data bucket."
  type        = string
}

variable "storage_prefixes" {
  description = "Object prefix per backend."
  type = object({
    mimir     = string
    loki      = string
    tempo     = string
    pyroscope = string
  })
}
