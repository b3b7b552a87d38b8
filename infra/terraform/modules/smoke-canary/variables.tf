variable "name" {
  description = "<project>-<environment>: prefix of every name."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster the schedule starts the task in."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the canary's security group."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets the task runs in (no public IP; out through the NAT)."
  type        = list(string)
}

variable "image" {
  description = "The smoke image, repository:tag."
  type        = string
}

variable "smoke_policy_json" {
  description = "The smoke role's read-only policy document (02-iam): the task role holds exactly it."
  type        = string
}

variable "grafana_admin_secret_arn" {
  description = "Secret with the Grafana admin password (injected as LGTM_GRAFANA_PASSWORD)."
  type        = string
}

variable "edge_secret_arn" {
  description = "Secret with the ALB edge secret (injected as LGTM_EDGE_SECRET)."
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
  validation {
    condition     = var.canary_interval_minutes >= 2 && floor(var.canary_interval_minutes) == var.canary_interval_minutes
    error_message = "canary_interval_minutes must be a whole number of minutes, at least 2 (a run needs its deadline plus a minute of retry slack)."
  }
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
  validation {
    condition     = !startswith(var.smoke_metric_namespace, "AWS/")
    error_message = "smoke_metric_namespace must not be an AWS/ namespace (those are AWS's own)."
  }
}
