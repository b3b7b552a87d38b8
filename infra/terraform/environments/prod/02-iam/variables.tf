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

variable "state_bucket" {
  description = "Bucket holding the components' state."
  type        = string
}

variable "bootstrap_state_bucket" {
  description = "Hand-made bucket holding the bootstrap component's state."
  type        = string
}

variable "state_lock_table" {
  description = "DynamoDB lock table."
  type        = string
}

variable "ecs_cluster_name" {
  description = "ECS cluster name."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the repository allowed to assume the deploy roles."
  type        = string
}

variable "github_ref" {
  description = "Git ref allowed to assume the deploy roles."
  type        = string
  default     = "refs/heads/main"
}
