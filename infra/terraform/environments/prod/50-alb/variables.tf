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

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener. Not in common.tfvars: terraform-component.yaml passes TF_VAR_certificate_arn from the repository variable ALB_CERTIFICATE_ARN."
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

variable "deletion_protection" {
  description = "ALB deletion protection; terraform-component.yaml passes false only on the destroy path, before destroying."
  type        = bool
  default     = true
}
