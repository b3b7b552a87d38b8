locals {
  name = "${var.project_name}-${var.environment}"
}

module "iam" {
  source                 = "../../../modules/iam"
  name                   = local.name
  project_name           = var.project_name
  environment            = var.environment
  data_bucket            = var.data_bucket
  state_bucket           = var.state_bucket
  bootstrap_state_bucket = var.bootstrap_state_bucket
  state_lock_table       = var.state_lock_table
  ecs_cluster_name       = var.ecs_cluster_name
  github_repository      = var.github_repository
  github_environment     = var.github_environment
  storage_prefixes       = var.storage_prefixes
  smoke_metric_namespace = var.smoke_metric_namespace

  create_github_oidc_provider = var.create_github_oidc_provider
  edge_secret_generation      = var.edge_secret_generation
  edge_secret_accept_previous = var.edge_secret_accept_previous
}
