variable "name" {
  description = "Name prefix (project-environment)."
  type        = string
}

variable "vpc_id" {
  description = "VPC id."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR (east-west traffic between tasks)."
  type        = string
}

variable "alb_ingress_cidrs" {
  description = "Client CIDRs allowed to reach the ALB."
  type        = list(string)
}

variable "alb_listener_ports" {
  description = "Ports the ALB listens on."
  type        = list(number)
  default     = [80, 443]
}

variable "service_ports" {
  description = "Container ports the ALB reaches (traffic and health-check ports of every target group)."
  type        = set(number)
}

variable "memcached_port" {
  description = "Memcached port."
  type        = number
  default     = 11211
}
