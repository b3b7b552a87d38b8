variable "project_name" {
  description = "Repositories are named <project_name>/<service>."
  type        = string
}

variable "services" {
  description = "One repository per service."
  type        = set(string)
}

variable "keep_images" {
  description = "How many images each repository keeps."
  type        = number
  default     = 30
}
