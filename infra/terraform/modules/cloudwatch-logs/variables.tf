variable "name" {
  description = "Name prefix (project-environment)."
  type        = string
}

variable "services" {
  description = "Services that get a log group /ecs/<name>/<service>."
  type        = set(string)
}

variable "retention_days" {
  description = "Log retention in days."
  type        = number
}
