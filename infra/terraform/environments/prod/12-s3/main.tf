locals {
  name = "${var.project_name}-${var.environment}"
}

module "s3" {
  source           = "../../../modules/s3"
  bucket           = var.data_bucket
  storage_prefixes = var.storage_prefixes
}
