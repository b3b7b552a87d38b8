variable "project_name" {
  description = "Project name."
  type        = string
}

variable "environment" {
  description = "Environment name."
  type        = string
}

variable "aws_region" {
  description = "AWS region of the state bucket and lock table."
  type        = string
}

variable "state_bucket" {
  description = "Bucket holding the other components' state (created here)."
  type        = string
}

variable "state_lock_table" {
  description = "DynamoDB lock table (created here)."
  type        = string
}
