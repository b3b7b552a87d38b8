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

variable "github_environment" {
  description = "GitHub environment whose jobs may assume the roles (restricted to the default branch in GitHub)."
  type        = string
  default     = "production"
}

variable "storage_prefixes" {
  description = "Data-bucket prefix per backend (each backend's task role reaches only its own)."
  type        = map(string)
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider; false when the account already has one (it is then looked up)."
  type        = bool
  default     = true
}

variable "edge_secret_generation" {
  description = "Rotation counter of the ALB edge secret (bump by one to rotate; then apply 50-alb)."
  type        = number
  default     = 0
}

variable "edge_secret_accept_previous" {
  description = "Keep accepting the previous edge secret at the ALB during a rotation."
  type        = bool
  default     = true
}

variable "smoke_metric_namespace" {
  description = "CloudWatch namespace of the smoke verdict per service (common.tfvars)."
  type        = string
}
