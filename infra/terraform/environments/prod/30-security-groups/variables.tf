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

variable "alb_ingress_cidrs" {
  description = "Client CIDRs allowed to reach the ALB."
  type        = list(string)
}
