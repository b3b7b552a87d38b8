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
