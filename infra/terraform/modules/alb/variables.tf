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
  description = "The decoded route table, infra/routes.json (rules, target_groups, default_target_group, listener)."
  type        = any
}

variable "deregistration_delay" {
  description = "Seconds a deregistering target drains; must not exceed the containers' stopTimeout (120)."
  type        = number
  default     = 120
}

variable "certificate_arn" {
  description = "ACM certificate; when set, a 443 listener carries the rules and port 80 redirects to it."
  type        = string
  default     = null
}

variable "idle_timeout" {
  description = "ALB idle timeout in seconds."
  type        = number
  default     = 120
}
