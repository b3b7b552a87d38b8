variable "name" {
  description = "Name prefix (project-environment)."
  type        = string
}

variable "vpc_id" {
  description = "VPC id."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the ALB."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the ALB."
  type        = list(string)
}

variable "routes" {
  description = "The decoded route table, infra/routes.json (listeners, rules_listener, edge_auth, default_action, rules, target_groups)."
  type        = any
}

variable "deregistration_delay" {
  description = "Seconds a deregistering target drains; must not exceed the containers' stopTimeout (120)."
  type        = number
  default     = 120
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener (port 80 only redirects to it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "edge_secret_values" {
  description = "Values the edge-secret header may carry: the current secret and, during a rotation, the previous one (02-iam)."
  type        = list(string)
  sensitive   = true

  validation {
    condition     = length(var.edge_secret_values) >= 1 && length(var.edge_secret_values) <= 2
    error_message = "edge_secret_values takes one or two values: with a rule's 3 path values that is the ALB's 5 comparisons per rule."
  }
}

variable "access_logs_prefix" {
  description = "Key prefix of the ALB access logs in their own bucket (ELB adds AWSLogs/<account>/ below it)."
  type        = string
  default     = "alb"

  validation {
    condition     = !strcontains(var.access_logs_prefix, "AWSLogs") && !startswith(var.access_logs_prefix, "/") && !endswith(var.access_logs_prefix, "/")
    error_message = "access_logs_prefix must not contain AWSLogs nor start or end with '/'."
  }
}

variable "access_logs_days" {
  description = "Days ALB access logs are kept."
  type        = number
  default     = 90
}

variable "deletion_protection" {
  description = "ALB deletion protection (on); the destroy path switches it off in a separate apply first."
  type        = bool
  default     = true
}

variable "idle_timeout" {
  description = "ALB idle timeout in seconds."
  type        = number
  default     = 120
}
