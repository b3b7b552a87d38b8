# Environment of every container. Every ${VAR} used by a config under infra/images/<service>/
# must be a key here (common_env, service_env[<service>]) or a secret (service_secrets);
# tests/preflight checks it (2026-01-15 18:00 and 2026-01-16 02:00: configs referenced
# variables the task definitions never set).
locals {
  mimir_url           = "http://mimir.${var.cloudmap_namespace}:${var.service_config["mimir"].container_port}"
  loki_url            = "http://loki.${var.cloudmap_namespace}:${var.service_config["loki"].container_port}"
  tempo_otlp_endpoint = "http://tempo.${var.cloudmap_namespace}:4318"

  common_env = {
    AWS_REGION         = var.aws_region
    LGTM_TENANT_ID     = var.tenant_id
    CLOUDMAP_NAMESPACE = var.cloudmap_namespace
  }

  service_env = {
    grafana = {
      GF_AUTH_ANONYMOUS_ENABLED      = "false"
      GF_AUTH_DISABLE_LOGIN_FORM     = "false"
      GF_SECURITY_ADMIN_USER         = "admin"
      GF_USERS_ALLOW_SIGN_UP         = "false"
      GF_ANALYTICS_REPORTING_ENABLED = "false"
    }
    mimir = {
      MIMIR_S3_BUCKET      = var.data_bucket
      MIMIR_STORAGE_PREFIX = var.storage_prefixes.mimir
      MEMCACHED_ENDPOINT   = var.memcached_endpoint
    }
    loki = {
      LOKI_S3_BUCKET      = var.data_bucket
      LOKI_STORAGE_PREFIX = var.storage_prefixes.loki
      MEMCACHED_ENDPOINT  = var.memcached_endpoint
    }
    tempo = {
      TEMPO_S3_BUCKET        = var.data_bucket
      TEMPO_STORAGE_PREFIX   = var.storage_prefixes.tempo
      MEMCACHED_ENDPOINT     = var.memcached_endpoint
      MIMIR_REMOTE_WRITE_URL = "${local.mimir_url}/api/v1/push"
    }
    pyroscope = {
      PYROSCOPE_S3_BUCKET      = var.data_bucket
      PYROSCOPE_STORAGE_PREFIX = var.storage_prefixes.pyroscope
    }
    alloy = {
      MIMIR_REMOTE_WRITE_URL = "${local.mimir_url}/api/v1/push"
      LOKI_PUSH_URL          = "${local.loki_url}/loki/api/v1/push"
      TEMPO_OTLP_ENDPOINT    = local.tempo_otlp_endpoint
    }
  }

  service_secrets = {
    grafana = {
      GF_SECURITY_ADMIN_PASSWORD = var.grafana_admin_secret_arn
    }
  }

  # Target groups of each service (a service may sit behind several: tempo and tempo-otlp).
  service_target_groups = {
    for svc in keys(var.service_config) : svc => {
      for tg_name, tg in var.routes_target_groups : tg_name => tg if tg.service == svc
    }
  }

  # Ports each container must expose: its own port, every target group port and every
  # health-check port of its target groups.
  service_ports = {
    for svc, cfg in var.service_config : svc => distinct(concat(
      [cfg.container_port],
      [for tg in values(local.service_target_groups[svc]) : tg.port],
      [for tg in values(local.service_target_groups[svc]) : tg.health_check.port],
    ))
  }
}
