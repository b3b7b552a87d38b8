terraform {
  required_version = ">= 1.6.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.19"
    }
  }
  # Chicken-and-egg: this component creates the state bucket and lock table every other
  # component uses, so its own state cannot live there. It lives in
  # `bootstrap_state_bucket` (created once by hand, versioned), key
  # bootstrap/terraform.tfstate, without a DynamoDB lock (2026-01-15 10:00).
  # terraform-component.yaml passes bucket/region at init.
  backend "s3" {
    key = "bootstrap/terraform.tfstate"
  }
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = {
      Project     = var.project_name
      Environment = var.environment
      Component   = "00-bootstrap"
      ManagedBy   = "terraform"
    }
  }
}
