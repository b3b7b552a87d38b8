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

variable "memcached_cluster_id" {
  description = "ElastiCache cluster id."
  type        = string
}

variable "memcached_config" {
  description = "Memcached settings."
  type = object({
    version            = string
    node_type          = string
    num_cache_nodes    = number
    max_item_size      = optional(number, 1048576)
    maintenance_window = string
  })
}
