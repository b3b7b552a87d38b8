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
  description = "ECS cluster the canary's task runs in (60-ecs makes it)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the canary's log group."
  type        = number
}

variable "alb_hostname" {
  description = "The name the ALB's certificate covers (TF_VAR_alb_hostname from the repository variable ALB_HOSTNAME, as the smoke gate's ALB_URL)."
  type        = string
}

variable "canary_enabled" {
  description = "false: the schedule exists but starts no task (State DISABLED)."
  type        = bool
  default     = true
}

variable "canary_interval_minutes" {
  description = "One canary run starts every this many minutes. The alert rules' windows are written for 5 (infra/images/mimir/rules)."
  type        = number
  default     = 5
}

variable "canary_deadline_seconds" {
  description = "A run is stopped after this long (lgtm-smoke canary --once --deadline); well inside the interval."
  type        = number
  default     = 240
}

variable "smoke_metric_namespace" {
  description = "The one CloudWatch namespace the canary may put metrics in (cloudwatch:namespace condition)."
  type        = string
  default     = "LGTM/Smoke"
}
