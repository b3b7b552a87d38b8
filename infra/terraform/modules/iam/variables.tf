variable "name" {
  description = "Name prefix (project-environment)."
  type        = string
}

variable "environment" {
  description = "Environment name (SSM image-tag path /<project>/<environment>/image-tag/*)."
  type        = string
}

variable "project_name" {
  description = "Project name; ECR repositories are <project_name>/<service>."
  type        = string
}

variable "data_bucket" {
  description = "Name of the LGTM data bucket the backends read and write."
  type        = string
}

variable "state_bucket" {
  description = "Terraform state bucket of the components."
  type        = string
}

variable "bootstrap_state_bucket" {
  description = "Hand-made bucket holding the bootstrap component's own state."
  type        = string
}

variable "state_lock_table" {
  description = "DynamoDB lock table."
  type        = string
}

variable "ecs_cluster_name" {
  description = "ECS cluster the deploy role may update."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the GitHub repository allowed to assume the deploy roles."
  type        = string
}

variable "github_environment" {
  description = "The GitHub environment whose jobs may assume the roles; its deployment branch policy allows only the default branch."
  type        = string
  default     = "production"
}

variable "storage_prefixes" {
  description = "Data-bucket prefix per backend: each backend's task role reaches only its own."
  type        = map(string)
}

variable "backends" {
  description = "Services that get a task role (their own bucket prefix); Grafana and Alloy make no AWS calls."
  type        = list(string)
  default     = ["mimir", "loki", "tempo", "pyroscope"]
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false when it already exists)."
  type        = bool
  default     = true
}

variable "edge_secret_generation" {
  description = "Rotation counter of the ALB edge secret: +1 makes a new current secret and keeps the one before as previous."
  type        = number
  default     = 0

  validation {
    condition     = var.edge_secret_generation >= 0 && floor(var.edge_secret_generation) == var.edge_secret_generation
    error_message = "edge_secret_generation is a whole number >= 0."
  }
}

variable "edge_secret_accept_previous" {
  description = "Keep accepting the previous edge secret at the ALB (turn off once every client reads the new one)."
  type        = bool
  default     = true
}

variable "smoke_metric_namespace" {
  description = "CloudWatch namespace of the smoke verdict per service (common.tfvars)."
  type        = string
}
