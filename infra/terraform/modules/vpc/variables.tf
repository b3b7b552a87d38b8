variable "name" {
  description = "Name prefix for every resource (project-environment)."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "az_count" {
  description = "How many availability zones to spread subnets over."
  type        = number
  default     = 2
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log group."
  type        = number
  default     = 30
}
