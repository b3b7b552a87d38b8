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

variable "state_bucket" {
  description = "Bucket holding the components' state."
  type        = string
}

variable "state_key_prefix" {
  description = "State key prefix; a component's state is <prefix>/<component>/terraform.tfstate."
  type        = string
}

variable "ecs_cluster_name" {
  description = "ECS cluster name."
  type        = string
}

variable "tenant_id" {
  description = "The one tenant of the stack (X-Scope-OrgID)."
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

variable "cloudmap_namespace" {
  description = "Cloud Map private DNS namespace."
  type        = string
}

variable "service_config" {
  description = "Fargate size and port per service."
  type = map(object({
    cpu            = number
    memory         = number
    desired_count  = number
    container_port = number
    stop_timeout   = optional(number, 120)
  }))
}

variable "health_check_grace_period_seconds" {
  description = "Grace period of load-balanced services (> 0)."
  type        = number
}

variable "smoke_metric_namespace" {
  description = "CloudWatch namespace of the smoke verdict per service, which the deploy alarms read (common.tfvars)."
  type        = string
}
