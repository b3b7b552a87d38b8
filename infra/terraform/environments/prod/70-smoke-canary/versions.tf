terraform {
  required_version = ">= 1.6.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.19"
    }
  }
  # partial backend: bucket/key/region/dynamodb_table come from terraform-component.yaml
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = {
      Project     = var.project_name
      Environment = var.environment
      Component   = "70-smoke-canary"
      ManagedBy   = "terraform"
    }
  }
}
