variable "cluster_id" {
  description = "ElastiCache cluster id."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the cluster."
  type        = list(string)
}

variable "memcached_version" {
  description = "Memcached engine version."
  type        = string
}

variable "node_type" {
  description = "Node type."
  type        = string
}

variable "num_cache_nodes" {
  description = "Number of nodes."
  type        = number
}

variable "max_item_size" {
  description = "memcached max_item_size in bytes."
  type        = number
  default     = 1048576
}

variable "maintenance_window" {
  description = "Weekly maintenance window."
  type        = string
}
