variable "namespace" {
  description = "Private DNS namespace (e.g. lgtm.local)."
  type        = string
}

variable "vpc_id" {
  description = "VPC the namespace is attached to."
  type        = string
}

variable "services" {
  description = "Service names registered as <service>.<namespace>."
  type        = set(string)
}
