variable "name" {
  description = "Name prefix (project-environment); task definition families are <name>-<service>."
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster name."
  type        = string
}

variable "aws_region" {
  description = "Region, given to the containers as AWS_REGION (S3 endpoints are s3.$${AWS_REGION}.amazonaws.com)."
  type        = string
}

variable "tenant_id" {
  description = "The one tenant (X-Scope-OrgID) used by Alloy and Grafana."
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

variable "memcached_endpoint" {
  description = "host:port of the memcached cluster (MEMCACHED_ENDPOINT)."
  type        = string
}

variable "cloudmap_namespace" {
  description = "Cloud Map namespace name (backends are <service>.<namespace>)."
  type        = string
}

variable "cloudmap_service_arns" {
  description = "Cloud Map service ARN per service."
  type        = map(string)
}

variable "service_config" {
  description = "cpu, memory, desired_count, container_port, stop_timeout per service."
  type = map(object({
    cpu            = number
    memory         = number
    desired_count  = number
    container_port = number
    stop_timeout   = optional(number, 120)
  }))
}

variable "image_repositories" {
  description = "ECR repository URL per service."
  type        = map(string)
}

variable "image_tags" {
  description = "Image tag per service (<version>-<timestamp>, written by deploy-ecs.yaml)."
  type        = map(string)
}

variable "routes_target_groups" {
  description = "routes.json target_groups (service, port, health_check) by target group name."
  type        = any
}

variable "target_group_arns" {
  description = "Target group ARN by target group name (50-alb output)."
  type        = map(string)
}

variable "health_check_grace_period_seconds" {
  description = "Grace period of every load-balanced service; must be > 0 (2026-01-16 04:15)."
  type        = number
  default     = 120

  validation {
    condition     = var.health_check_grace_period_seconds > 0
    error_message = "health_check_grace_period_seconds must be > 0, or ALB checks kill tasks that are still starting."
  }
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the tasks."
  type        = list(string)
}

variable "execution_role_arn" {
  description = "Task execution role."
  type        = string
}

variable "task_role_arns" {
  description = "Task role per service (each backend's reaches only its own bucket prefix); a service without one (Grafana, Alloy) runs with no AWS permissions."
  type        = map(string)
}

variable "log_group_names" {
  description = "CloudWatch log group per service."
  type        = map(string)
}

variable "grafana_admin_secret_arn" {
  description = "Secrets Manager ARN of the Grafana admin password."
  type        = string
}

variable "smoke_metric_namespace" {
  description = "CloudWatch namespace of the smoke verdict per service, which the deploy alarms read (common.tfvars)."
  type        = string
}
