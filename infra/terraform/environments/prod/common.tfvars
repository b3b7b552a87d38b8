# Shared values for every component under environments/prod. Each component is applied
# with `-var-file=../common.tfvars`; a component declares only the variables it uses.
# Read by the smoke suite too (python-hcl2), for its defaults.

project_name = "lgtm"
environment  = "prod"
aws_region   = "ap-northeast-2"

# One tenant for every backend, Alloy and every Grafana datasource
# (2026-01-15 16:00: stray tenants and Pyroscope's `anonymous/`).
tenant_id = "jsj-lgtm-header"

# Terraform state. The bootstrap component's own state lives in a bucket created by hand
# (see docs/infra.md, "bootstrap"); every other component keeps its state in
# `state_bucket` under `state_key_prefix/<component>/terraform.tfstate`.
bootstrap_state_bucket = "jsj-lgtm-terraform-bootstrap"
state_bucket           = "jsj-lgtm-terraform-state-prod"
state_lock_table       = "jsj-lgtm-terraform-lock-prod"
state_key_prefix       = "lgtm-ecs/prod"

# GitHub repository allowed to assume the deploy role through OIDC.
github_repository  = "JSJ2337/LGTM_stack"
github_environment = "production"
# false when the account already has GitHub's OIDC provider (02-iam then looks it up).
create_github_oidc_provider = true

# ALB edge secret rotation counter: +1, then apply 02-iam and 50-alb (docs/infra.md).
edge_secret_generation = 0

# Network
vpc_cidr           = "10.130.0.0/16"
availability_zones = 2

# CloudWatch namespace of the smoke verdict per service (FailedChecks {Service, Source}): the
# smoke role may put metrics only here (02-iam), the deploy alarms read it (60-ecs), and the
# suite's --publish-cloudwatch writes it (its --cloudwatch-namespace default).
smoke_metric_namespace = "LGTM/Smoke"

ecs_cluster_name   = "lgtm-prod-cluster"
cloudmap_namespace = "lgtm.local"
log_retention_days = 30

# Clients allowed to reach the ALB.
alb_ingress_cidrs = ["0.0.0.0/0"]

# The ALB's ACM certificate ARN is not here: it names the account, and terraform-component.yaml
# passes it as TF_VAR_certificate_arn from the repository variable ALB_CERTIFICATE_ARN.

# Data bucket: versioning stays OFF (2026-01-16 05:30, destroy failed on versions).
data_bucket = "jsj-lgtm-data-s3"

# Object-storage prefixes. Mimir's may only hold [A-Za-z0-9], Loki's [A-Za-z0-9-],
# Pyroscope's is `storage.storage_prefix` (2026-01-16 03:30/04:00).
storage_prefixes = {
  mimir     = "mimir"
  loki      = "loki"
  tempo     = "tempo"
  pyroscope = "pyroscope"
}

# Base image versions: the Dockerfiles' ARG VERSION. ECR tags are `<version>-<timestamp>`,
# made per build by deploy-ecs.yaml, never written here (2026-01-16 04:30).
image_versions = {
  grafana   = "12.1.0"
  mimir     = "2.17.0"
  loki      = "3.6.0"
  tempo     = "2.9.0"
  pyroscope = "1.13.5"
  alloy     = "v1.11.3"
  # the smoke canary's image (infra/images/smoke): a python image tag, not a service
  smoke = "3.11.11-slim-bookworm"
}

# Fargate sizes: only valid cpu/memory pairs (2026-01-15 24:00, "No Fargate
# configuration exists"). stop_timeout (max 120) = ALB deregistration delay.
service_config = {
  grafana = {
    cpu            = 512
    memory         = 2048
    desired_count  = 1
    container_port = 3000
    stop_timeout   = 120
  }
  mimir = {
    cpu            = 1024
    memory         = 3072
    desired_count  = 1
    container_port = 8080
    stop_timeout   = 120
  }
  loki = {
    cpu            = 512
    memory         = 2048
    desired_count  = 1
    container_port = 3100
    stop_timeout   = 120
  }
  tempo = {
    cpu            = 512
    memory         = 2048
    desired_count  = 1
    container_port = 3200
    stop_timeout   = 120
  }
  pyroscope = {
    cpu            = 512
    memory         = 2048
    desired_count  = 1
    container_port = 4040
    stop_timeout   = 120
  }
  alloy = {
    cpu            = 256
    memory         = 1024
    desired_count  = 1
    container_port = 12345
    stop_timeout   = 120
  }
}

# Seconds ECS ignores ALB health checks after a task starts (2026-01-16 04:15).
health_check_grace_period_seconds = 120

memcached_cluster_id = "lgtm-prod-memcached"
memcached_config = {
  version            = "1.6.22"
  node_type          = "cache.t3.micro"
  num_cache_nodes    = 1
  max_item_size      = 1048576
  maintenance_window = "sun:05:00-sun:06:00"
}
