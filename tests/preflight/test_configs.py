"""Each check about the services' configs (infra/preflight/configs.py) fails on a copy of the tree broken the way
the seeds (or an issue) broke it, with a message that names the cause."""

from __future__ import annotations

import pytest

from . import broken
from .broken import ALLOY, DATASOURCES, ECS_LOCALS, LOKI, MIMIR, PYRO, TEMPO, TFVARS

pytestmark = pytest.mark.preflight

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # 2026-01-16 02:00: config uses a variable no task definition sets
    ("config_env_vars_set_in_task_definition", "pyroscope-prefix-unset",
     [(ECS_LOCALS, "      PYROSCOPE_STORAGE_PREFIX = var.storage_prefixes.pyroscope\n", "")],
     "does not set PYROSCOPE_STORAGE_PREFIX"),
    ("config_env_vars_set_in_task_definition", "memcached-unset",
     [(ECS_LOCALS, "      MIMIR_STORAGE_PREFIX = var.storage_prefixes.mimir\n"
                   "      MEMCACHED_ENDPOINT   = var.memcached_endpoint\n",
       "      MIMIR_STORAGE_PREFIX = var.storage_prefixes.mimir\n")],
     "mimir: config.yaml uses ${MEMCACHED_ENDPOINT}"),
    ("config_env_vars_set_in_task_definition", "alloy-sys-env",
     [(ALLOY, 'sys.env("LOKI_PUSH_URL")', 'sys.env("LOKI_URL")')],
     "does not set LOKI_URL"),
    # 2026-01-15 16:00: stray tenants
    ("tenant_consistent", "alloy-old-tenant",
     [(ALLOY, 'tenant_id = sys.env("LGTM_TENANT_ID")', 'tenant_id = "aws-rag-cloudwatch"')],
     '"aws-rag-cloudwatch"'),
    ("tenant_consistent", "pyroscope-datasource-no-header",
     [(DATASOURCES, "    url: http://pyroscope.${CLOUDMAP_NAMESPACE}:4040\n    editable: false\n"
                    "    jsonData:\n      httpHeaderName1: X-Scope-OrgID\n",
       "    url: http://pyroscope.${CLOUDMAP_NAMESPACE}:4040\n    editable: false\n    jsonData:\n")],
     "'Pyroscope' sends no X-Scope-OrgID"),
    # 2026-01-16 02:00: anonymous/ in the bucket
    ("multitenancy_enabled", "pyroscope-single-tenant",
     [(PYRO, "multitenancy_enabled: true", "multitenancy_enabled: false")],
     "pyroscope: multitenancy_enabled must be true"),
    # 2026-01-15 18:00 / 19:30
    ("no_hardcoded_region_bucket_ip", "region-in-mimir",
     [(MIMIR, "region: ${AWS_REGION}", "region: ap-northeast-2")],
     "hard-coded region 'ap-northeast-2'"),
    ("no_hardcoded_region_bucket_ip", "remote-write-ip",
     [(TEMPO, "- url: ${MIMIR_REMOTE_WRITE_URL}", "- url: http://10.130.30.62:9009/api/v1/push")],
     "hard-coded IP address 10.130.30.62"),
    ("no_hardcoded_region_bucket_ip", "bucket-in-tf",
     [(ECS_LOCALS, "MIMIR_S3_BUCKET      = var.data_bucket", 'MIMIR_S3_BUCKET      = "jsj-lgtm-data-s3"')],
     "hard-coded data bucket 'jsj-lgtm-data-s3'"),
    # 2026-01-16 03:30 / 04:00
    ("config_keys_known_for_version", "pyroscope-storage-prefix",
     [(PYRO, "  storage_prefix: ${PYROSCOPE_STORAGE_PREFIX}", "  prefix: ${PYROSCOPE_STORAGE_PREFIX}/")],
     "unknown config key storage.prefix: field prefix not found in type phlare.StorageConfig"),
    ("config_keys_known_for_version", "pyroscope-s3-prefix",
     [(PYRO, "  storage_prefix: ${PYROSCOPE_STORAGE_PREFIX}\n  s3:\n", "  s3:\n    prefix: ${PYROSCOPE_STORAGE_PREFIX}/\n")],
     "unknown config key storage.s3.prefix"),
    ("config_keys_known_for_version", "loki-typo",
     [(LOKI, "  chunk_idle_period: 30m", "  chunk_idle_periods: 30m")],
     "unknown config key ingester.chunk_idle_periods"),
    # issue 21: Mimir's Alertmanager and ruler keys are held to the 2.17 reference too
    ("config_keys_known_for_version", "mimir-alertmanager-store-directory",
     [(MIMIR, "  local:\n    path: /etc/mimir/alertmanager", "  local:\n    directory: /etc/mimir/alertmanager")],
     "unknown config key alertmanager_storage.local.directory: the Alertmanager's local store takes "
     "alertmanager_storage.local.path"),
    ("config_keys_known_for_version", "mimir-alertmanager-typo",
     [(MIMIR, "  enable_api: false", "  enable_config_api: false")],
     "unknown config key alertmanager.enable_config_api"),
    ("config_keys_known_for_version", "mimir-ruler-typo",
     [(MIMIR, "  alertmanager_url: http://localhost:8080/alertmanager", "  alertmanager_urls: http://localhost:8080/alertmanager")],
     "unknown config key ruler.alertmanager_urls"),
    ("config_keys_known_for_version", "no-schema-for-new-minor",
     [(TFVARS, 'tempo     = "2.9.0"', 'tempo     = "2.10.0"')],
     "no known-key schema infra/preflight/known_keys/tempo-2.10.json"),
    # 2026-01-16 02:45/03:00
    ("runtime_config_file_is_local_path", "mimir-s3-uri",
     [(MIMIR, "file: /etc/mimir/runtime.yaml", "file: s3://${MIMIR_S3_BUCKET}/mimir/runtime-config.yaml")],
     "is a URI; only local paths are read"),
    # 2026-01-16 01:30 -> 05:00
    ("no_http_path_prefix", "tempo-prefix",
     [(TEMPO, "  http_listen_port: 3200\n", "  http_listen_port: 3200\n  http_path_prefix: /tempo\n")],
     "tempo: server.http_path_prefix is set"),
    # 2026-01-16 01:00: Grafana on admin/admin, datasources through the ALB
    ("grafana_datasources_and_auth", "grafana-secret-removed-from-task",
     [(ECS_LOCALS, "      GF_SECURITY_ADMIN_PASSWORD = var.grafana_admin_secret_arn\n", "")],
     "admin password must come from a secret"),
    ("grafana_datasources_and_auth", "datasource-via-alb",
     [(DATASOURCES, "url: http://loki.${CLOUDMAP_NAMESPACE}:3100", "url: http://${ALB_DNS}/loki")],
     "datasource 'loki' url 'http://${ALB_DNS}/loki' must start with http://loki.${CLOUDMAP_NAMESPACE}:3100"),
    ("grafana_datasources_and_auth", "anonymous-on",
     [("infra/images/grafana/grafana.ini", "[auth.anonymous]\nenabled = false", "[auth.anonymous]\nenabled = true")],
     "anonymous access must be disabled"),
    ("grafana_datasources_and_auth", "uid-changed",
     [(DATASOURCES, "uid: tempo", "uid: tempo-prod")],
     "no datasource with uid 'tempo'"),
]


@pytest.mark.parametrize("check,edits,expected", broken.params(BROKEN))
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    broken.assert_fails(tree, check, edits, expected)
