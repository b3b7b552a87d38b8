"""Each preflight check fails on a copy of the tree broken the way the seeds broke it,
with a message that names the cause."""

from __future__ import annotations

import pytest

from infra.preflight import checks
from lgtm_smoke.outcome import Status, run_check

pytestmark = pytest.mark.preflight

TFVARS = "infra/terraform/environments/prod/common.tfvars"
ECS_LOCALS = "infra/terraform/modules/ecs/locals.tf"
ECS_MAIN = "infra/terraform/modules/ecs/main.tf"
ALB_MAIN = "infra/terraform/modules/alb/main.tf"
ALB_COMP = "infra/terraform/environments/prod/50-alb/main.tf"
MIMIR = "infra/images/mimir/config.yaml"
LOKI = "infra/images/loki/config.yaml"
TEMPO = "infra/images/tempo/config.yaml"
PYRO = "infra/images/pyroscope/config.yaml"
ALLOY = "infra/images/alloy/config.alloy"
DATASOURCES = "infra/images/grafana/provisioning/datasources/datasources.yaml"
DEPLOY = ".github/workflows/deploy-ecs.yaml"
ROUTES = "infra/routes.json"
SG_MAIN = "infra/terraform/modules/security-groups/main.tf"
GATE = ".github/workflows/smoke-gate.yaml"
COMPONENT_WF = ".github/workflows/terraform-component.yaml"
TERRAFORM = ".github/workflows/terraform.yaml"
IAM_MAIN = "infra/terraform/modules/iam/main.tf"
IAM_SMOKE = "infra/terraform/modules/iam/smoke.tf"
IAM_COMP_OUTPUTS = "infra/terraform/environments/prod/02-iam/outputs.tf"

# (check, id, [(file, old, new), ...], text the message must contain)
BROKEN = [
    # 2026-01-15 24:00: +50 % memory -> 512/1536 and 256/768
    ("fargate_cpu_memory_valid", "loki-512-1536",
     [(TFVARS, "cpu            = 512\n    memory         = 2048\n    desired_count  = 1\n    container_port = 3100",
       "cpu            = 512\n    memory         = 1536\n    desired_count  = 1\n    container_port = 3100")],
     "No Fargate configuration exists for 512 CPU, 1536 memory"),
    ("fargate_cpu_memory_valid", "alloy-256-768",
     [(TFVARS, "cpu            = 256\n    memory         = 1024", "cpu            = 256\n    memory         = 768")],
     "256 CPU, 768 memory"),
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
    # 2026-01-16 02:00/02:30
    ("storage_prefixes_consistent", "mimir-prefix-dash",
     [(TFVARS, 'mimir     = "mimir"', 'mimir     = "mimir-blocks"')],
     "Mimir allows only [A-Za-z0-9]"),
    ("storage_prefixes_consistent", "prefix-hardcoded-in-task",
     [(ECS_LOCALS, "LOKI_STORAGE_PREFIX = var.storage_prefixes.loki", 'LOKI_STORAGE_PREFIX = "loki"')],
     "task definition sets LOKI_STORAGE_PREFIX='loki'"),
    ("storage_prefixes_consistent", "pyroscope-no-prefix",
     [(PYRO, "  storage_prefix: ${PYROSCOPE_STORAGE_PREFIX}\n", "")],
     "pyroscope: config has no storage.storage_prefix"),
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
    # 2026-01-15 18:00: s3.northeast-2 typo
    ("s3_endpoints_use_region_variable", "tempo-typo",
     [(TEMPO, "endpoint: s3.${AWS_REGION}.amazonaws.com", "endpoint: s3.northeast-2.amazonaws.com")],
     "tempo: config.yaml S3 endpoint 's3.northeast-2.amazonaws.com'"),
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
    # 2026-01-16 03:15 + the OTLP target group
    ("health_checks_match_services", "prefixed-health-path",
     [("infra/routes.json", '"tempo":      {"service": "tempo",     "port": 3200, "health_check": {"path": "/ready"',
       '"tempo":      {"service": "tempo",     "port": 3200, "health_check": {"path": "/tempo/ready"')],
     "health check path '/tempo/ready' is not served by tempo"),
    ("health_checks_match_services", "otlp-health-on-4318",
     [("infra/routes.json", '"port": 4318, "health_check": {"path": "/ready", "port": 3200}',
       '"port": 4318, "health_check": {"path": "/ready", "port": 4319}')],
     "health check port 4319 is not a port tempo listens on"),
    # 2026-01-16 04:15
    ("grace_period_long_enough", "grace-zero",
     [(TFVARS, "health_check_grace_period_seconds = 120", "health_check_grace_period_seconds = 0")],
     "health_check_grace_period_seconds = 0; it must be >= 60"),
    ("grace_period_long_enough", "grace-30s",
     [(TFVARS, "health_check_grace_period_seconds = 120", "health_check_grace_period_seconds = 30")],
     "health_check_grace_period_seconds = 30; it must be >= 60"),
    ("grace_period_long_enough", "grace-not-wired",
     [(ECS_MAIN, "  health_check_grace_period_seconds = length(local.service_target_groups[each.key]) > 0 "
                 "? var.health_check_grace_period_seconds : null\n", "")],
     "sets no health_check_grace_period_seconds"),
    # 2026-01-15 19:00
    ("deregistration_delay_le_stop_timeout", "drain-longer-than-stop",
     [(ALB_COMP, "deregistration_delay = min([for s in values(var.service_config) : s.stop_timeout]...)",
       "deregistration_delay = 300")],
     "deregistration_delay 300 s > grafana stop_timeout 120 s"),
    # 2026-01-15 15:00
    ("module_inputs_declared", "removed-variable-still-passed",
     [("infra/terraform/environments/prod/60-ecs/main.tf",
       "  grafana_admin_secret_arn          = data.terraform_remote_state.iam.outputs.grafana_admin_secret_arn\n",
       "  grafana_admin_secret_arn          = data.terraform_remote_state.iam.outputs.grafana_admin_secret_arn\n"
       "  tempo_otlp_target_group_arn       = \"x\"\n")],
     "passes 'tempo_otlp_target_group_arn', which infra/terraform/modules/ecs does not declare"),
    ("module_inputs_declared", "required-variable-missing",
     [("infra/terraform/environments/prod/60-ecs/main.tf",
       "  memcached_endpoint                = data.terraform_remote_state.memcached.outputs.memcached_endpoint\n", "")],
     "does not pass required variable 'memcached_endpoint'"),
    ("module_inputs_declared", "undeclared-var",
     [("infra/terraform/environments/prod/50-alb/variables.tf", 'variable "certificate_arn" {', 'variable "certificate" {')],
     "uses var.certificate_arn but declares no variable"),
    ("remote_state_outputs_exported", "output-removed",
     [("infra/terraform/environments/prod/50-alb/outputs.tf", 'output "target_group_arns" {', 'output "tg_arns" {')],
     "reads alb.outputs.target_group_arns but 50-alb exports no output 'target_group_arns'"),
    # 2026-01-16 04:30
    ("ecr_tags_unique_per_build", "tag-is-base-version",
     [(DEPLOY, ":${{ matrix.tag }}", ":${{ matrix.base_version }}")],
     "the base version: tags must be unique per build"),
    ("ecr_tags_unique_per_build", "build-tag-in-tfvars",
     [(TFVARS, 'tempo     = "2.9.0"', 'tempo     = "2.9.0-20260116"')],
     "image_versions.tempo = '2.9.0-20260116' looks like a build tag"),
    # 2026-01-16 05:30 / 2026-01-15 10:00
    ("bucket_versioning", "data-bucket-versioned",
     [("infra/terraform/modules/s3/main.tf", 'status = "Disabled"', 'status = "Enabled"')],
     "data bucket versioning is Enabled; it must be Disabled"),
    ("bucket_versioning", "state-bucket-unversioned",
     [("infra/terraform/environments/prod/00-bootstrap/main.tf", 'status = "Enabled"', 'status = "Suspended"')],
     "00-bootstrap state bucket versioning is ['Suspended']; it must be Enabled"),
    # 2026-01-16 01:00
    ("alb_rules_from_route_table", "no-transform",
     [(ALB_MAIN, 'type = "url-rewrite"', 'type = "host-header-rewrite"')],
     "no dynamic url-rewrite transform"),
    ("alb_rules_from_route_table", "old-provider",
     [(ALB_MAIN.replace("main.tf", "versions.tf"), 'version = "~> 6.19"', 'version = ">= 5.0"')],
     "must be ~> 6.19"),
    ("alb_rules_from_route_table", "unbounded-provider",
     [("infra/terraform/environments/prod/60-ecs/versions.tf", 'version = "~> 6.19"', 'version = ">= 6.19.0"')],
     "60-ecs: aws provider constraint '>= 6.19.0' must be ~> 6.19"),
    ("alb_rules_from_route_table", "static-rules",
     [(ALB_COMP, 'jsondecode(file("${path.root}/../../../../routes.json"))', '{ rules = [], target_groups = {} }')],
     "does not jsondecode(file(.../routes.json))"),
    # issue 11 mutation: /v1/traces to Tempo's API port
    ("otlp_receiver_reachable", "otlp-to-api-target-group",
     [(ROUTES, '"target_group": "tempo-otlp", "edge_auth": true', '"target_group": "tempo", "edge_auth": true')],
     "/v1/traces must go to the tempo-otlp target group (port 4318); rule tempo-otlp sends it to tempo"),
    # issue 12: /tempo/* forwarded whole reaches Tempo's /shutdown (any method)
    ("routes_allow_list_closed", "tempo-whole-prefix",
     [(ROUTES, '"paths": ["/tempo/api/traces/*", "/tempo/api/v2/traces/*", "/tempo/api/echo"]', '"paths": ["/tempo/*"]')],
     "/tempo/shutdown reaches tempo as /shutdown"),
    ("routes_allow_list_closed", "loki-admin-allowed",
     [(ROUTES, '"paths": ["/loki/api/v1/index/volume", "/loki/api/v1/index/volume_range"]',
       '"paths": ["/loki/api/v1/index/volume", "/loki/api/v1/delete"]')],
     "/loki/api/v1/delete reaches loki as /loki/api/v1/delete"),
    # issue 11 mutation: the /tempo rewrite removed
    ("routes_allow_list_closed", "tempo-rewrite-removed",
     [(ROUTES, '"paths": ["/tempo/api/search", "/tempo/api/search/*", "/tempo/api/v2/search/*"],\n'
               '     "rewrite": {"regex": "^/tempo/(.*)$", "replace": "/$1"}}',
       '"paths": ["/tempo/api/search", "/tempo/api/search/*", "/tempo/api/v2/search/*"]}')],
     "route tempo-search: forwards /tempo/api/search, /tempo/api/search/*, /tempo/api/v2/search/* to tempo "
     "without the /tempo rewrite"),
    ("routes_allow_list_closed", "rewrite-beyond-api",
     [(ROUTES, '"paths": ["/tempo/api/metrics/query", "/tempo/api/metrics/query_range"]',
       '"paths": ["/tempo/api/metrics/query", "/tempo/status/*"]')],
     "/tempo/status/* is rewritten to /status/x"),
    ("routes_allow_list_closed", "push-without-edge-auth",
     [(ROUTES, '"target_group": "loki", "edge_auth": true,\n     "paths": ["/loki/api/v1/push"',
       '"target_group": "loki",\n     "paths": ["/loki/api/v1/push"')],
     "route loki-push: forwards to loki without edge_auth"),
    ("routes_allow_list_closed", "default-forwards",
     [(ROUTES, '"default_action": {"type": "fixed-response", "status": 404',
       '"default_action": {"type": "forward", "status": 404')],
     "default_action is"),
    ("routes_allow_list_closed", "grafana-shadows-401",
     [(ROUTES, '{"priority": 901, "name": "grafana-api"', '{"priority": 100, "name": "grafana-api"')],
     "route mimir-push: /api/v1/push without the edge secret goes to grafana-api (priority 100) before the 401 rule at 510"),
    ("routes_allow_list_closed", "four-paths",
     [(ROUTES, '"paths": ["/api/v1/push", "/otlp/v1/metrics"]', '"paths": ["/api/v1/push", "/otlp/v1/metrics", "/a", "/b"]')],
     "route mimir-push: 4 paths"),
    # issue 12: TLS, redirect, security groups
    ("alb_listeners_https_and_redirect", "old-tls-policy",
     [(ROUTES, '"ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"', '"ssl_policy": "ELBSecurityPolicy-2016-08"')],
     "'ELBSecurityPolicy-2016-08' is not a current TLS policy"),
    ("alb_listeners_https_and_redirect", "no-redirect",
     [(ROUTES, '"protocol": "HTTP", "redirect_to": "https"', '"protocol": "HTTP"')],
     "routes.json http listener"),
    ("alb_listeners_https_and_redirect", "http-forwards",
     [(ALB_MAIN, '    type = "redirect"\n    redirect {\n      port        = tostring(local.https.port)\n'
                 '      protocol    = "HTTPS"\n      status_code = "HTTP_301"\n    }\n',
       '    type             = "forward"\n    target_group_arn = aws_lb_target_group.this["grafana"].arn\n')],
     "port 80 listener default actions ['forward']; it must only redirect (301) to HTTPS"),
    ("alb_listeners_https_and_redirect", "https-optional",
     [(ALB_MAIN, 'resource "aws_lb_listener" "https" {\n',
       'resource "aws_lb_listener" "https" {\n  count             = var.certificate_arn != null ? 1 : 0\n')],
     "HTTPS must always exist"),
    ("alb_listeners_https_and_redirect", "header-condition-removed",
     [(ALB_MAIN, "        values           = var.edge_secret_values\n", '        values           = ["x"]\n')],
     "no http_header condition on the edge secret"),
    ("alb_listeners_https_and_redirect", "tasks-open-to-world",
     [(SG_MAIN, "      security_groups = [aws_security_group.alb.id]\n    }\n  }",
       '      cidr_blocks     = ["0.0.0.0/0"]\n    }\n  }')],
     "security group ecs: container-port ingress from ['0.0.0.0/0']"),
    # issue 11: the gate as written is the gate that runs
    ("smoke_gate_after_every_ecs_deploy", "deploy-ecs-without-gate",
     [(DEPLOY, "  smoke-gate:\n    needs: [prepare, deploy]\n", "  smoke-gate:\n    needs: [prepare]\n")],
     "deploy-ecs.yaml: job deploy applies 60-ecs but no job calling smoke-gate.yaml needs it"),
    ("smoke_gate_after_every_ecs_deploy", "terraform-stage5-without-gate",
     [(TERRAFORM, "    needs: [stage5-ecs]\n    uses: ./.github/workflows/smoke-gate.yaml",
       "    needs: [stage4-alb]\n    uses: ./.github/workflows/smoke-gate.yaml")],
     "terraform.yaml: job stage5-ecs applies 60-ecs but no job calling smoke-gate.yaml needs it"),
    ("smoke_gate_after_every_ecs_deploy", "single-component-ecs",
     [(TERRAFORM, "if: needs.settings.outputs.component != 'all' "
                  "&& !(needs.settings.outputs.component == '60-ecs' && needs.settings.outputs.action == 'apply')",
       "if: needs.settings.outputs.component != 'all'")],
     "terraform.yaml: job single applies 60-ecs"),
    ("smoke_gate_credentials_and_secrets", "no-id-token",
     [(GATE, "permissions:\n  id-token: write\n", "permissions:\n")],
     "no `id-token: write` permission"),
    ("smoke_gate_credentials_and_secrets", "deploy-role",
     [(GATE, "role-to-assume: ${{ vars.AWS_SMOKE_ROLE_ARN }}", "role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}")],
     "not the read-only smoke role"),
    ("smoke_gate_credentials_and_secrets", "password-from-github-secret",
     [(GATE, '          LGTM_GRAFANA_PASSWORD="$(secret "$STACK/grafana/admin-password")"\n',
       "          LGTM_GRAFANA_PASSWORD=\"${{ secrets.GRAFANA_ADMIN_PASSWORD }}\"\n")],
     "does not read grafana/admin-password from Secrets Manager into LGTM_GRAFANA_PASSWORD"),
    ("smoke_gate_credentials_and_secrets", "no-edge-secret",
     [(GATE, '          LGTM_EDGE_SECRET="$(secret "$STACK/alb/edge-secret")"\n', "")],
     "does not read alb/edge-secret from Secrets Manager into LGTM_EDGE_SECRET"),
    # issue 11 mutation: the Grafana secret removed
    ("smoke_gate_credentials_and_secrets", "grafana-secret-removed",
     [(IAM_MAIN, 'name                    = "${var.name}/grafana/admin-password"',
       'name                    = "${var.name}/grafana/admin"')],
     "modules/iam creates no secret <project>-<env>/grafana/admin-password"),
    # the smoke role's secret resource through a variable 02-iam never passed (null): the
    # gate could not read the edge secret on AWS, while moto, given the ARN, could
    ("smoke_gate_credentials_and_secrets", "edge-secret-through-unset-variable",
     [(IAM_SMOKE, "aws_secretsmanager_secret.edge.arn]", "var.edge_secret_arn]")],
     "GetSecretValue does not reach the secret <project>-<env>/alb/edge-secret"),
    ("smoke_gate_credentials_and_secrets", "no-smoke-role-output",
     [(IAM_COMP_OUTPUTS, 'output "smoke_role_arn" {', 'output "smoke_role" {')],
     "02-iam has no output smoke_role_arn"),
    ("smoke_gate_expects_built_tags", "no-expect-image-tag",
     [(GATE, ' --expect-image-tag "$EXPECT_IMAGE_TAGS"', "")],
     "pytest runs without --expect-image-tag"),
    ("smoke_gate_expects_built_tags", "tags-not-from-build",
     [(TERRAFORM, "image_tags: ${{ needs.stage5-ecs.outputs.image_tags }}",
       "image_tags: ${{ needs.settings.outputs.image_tags }}")],
     "terraform.yaml: job smoke-gate passes image_tags ${{ needs.settings.outputs.image_tags }}"),
    ("smoke_gate_uploads_reports", "no-always",
     [(GATE, "      - name: Upload smoke reports (JUnit, JSON, Markdown)\n        if: always()\n",
       "      - name: Upload smoke reports (JUnit, JSON, Markdown)\n")],
     "has no `if: always()`"),
    ("smoke_gate_uploads_reports", "json-not-uploaded",
     [(GATE, "            smoke.json\n", "")],
     "smoke.json (--report-json) is not uploaded"),
    ("smoke_gate_uploads_reports", "no-markdown",
     [(GATE, " --summary-md smoke-summary.md", "")],
     "pytest runs without --summary-md"),
    # issue 11 item 5: the six mutations
    ("bootstrap_state_in_bootstrap_bucket", "bootstrap-on-state-bucket",
     [(COMPONENT_WF, "-backend-config=\"bucket=${{ steps.vars.outputs.bootstrap_state_bucket }}\"",
       "-backend-config=\"bucket=${{ steps.vars.outputs.state_bucket }}\"")],
     "00-bootstrap is initialised against the state bucket it creates"),
    ("memcached_endpoint_from_elasticache", "memcached-host-in-task",
     [(ECS_LOCALS, "      MEMCACHED_ENDPOINT   = var.memcached_endpoint",
       '      MEMCACHED_ENDPOINT   = "lgtm-prod-memcached.x1y2z3.cfg.apne2.cache.amazonaws.com:11211"')],
     "task definition sets MEMCACHED_ENDPOINT='lgtm-prod-memcached.x1y2z3.cfg.apne2.cache.amazonaws.com:11211'"),
    ("memcached_endpoint_from_elasticache", "memcached-host-in-config",
     [(MIMIR, "        addresses: ${MEMCACHED_ENDPOINT}", "        addresses: ftt-mimir-memcache:11211")],
     "hard-codes the memcached host ftt-mimir-memcache:11211"),
    ("ecr_tags_unique_per_build", "ecr-mutable",
     [("infra/terraform/modules/ecr/main.tf", 'image_tag_mutability = "IMMUTABLE"', 'image_tag_mutability = "MUTABLE"')],
     "modules/ecr repositories must be IMMUTABLE"),
    ("grafana_datasources_and_auth", "grafana-secret-removed-from-task",
     [(ECS_LOCALS, "      GF_SECURITY_ADMIN_PASSWORD = var.grafana_admin_secret_arn\n", "")],
     "admin password must come from a secret"),
    # issue 11 item 3: least privilege and safe pipelines
    ("iam_least_privilege", "any-environment",
     [(IAM_MAIN, 'values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]',
       'values   = ["repo:${var.github_repository}:environment:*"]')],
     "github_assume trusts sub [('StringEquals', ['repo:${var.github_repository}:environment:*'])]"),
    ("iam_least_privilege", "branch-subject",
     [(IAM_MAIN, 'values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]',
       'values   = ["repo:${var.github_repository}:environment:${var.github_environment}", '
       '"repo:${var.github_repository}:ref:refs/heads/main"]')],
     "it must be StringEquals [repo:${var.github_repository}:environment:${var.github_environment}]"),
    ("iam_least_privilege", "terraform-role-edits-itself",
     [(IAM_MAIN, '      "iam:PutRolePolicy",\n      "iam:TagRole",', '      "iam:TagRole",')],
     "role github_terraform may change its own policy (iam:PutRolePolicy on itself are not denied)"),
    ("iam_least_privilege", "task-role-whole-bucket",
     [(IAM_MAIN, '      "${local.data_bucket_arn}/${each.value}/*",', '      "${local.data_bucket_arn}/*",')],
     "task role statement OwnPrefixObjects reaches ${local.data_bucket_arn}/*"),
    ("iam_least_privilege", "grafana-task-role",
     [("infra/terraform/modules/iam/variables.tf", 'default     = ["mimir", "loki", "tempo", "pyroscope"]',
       'default     = ["grafana", "mimir", "loki", "tempo", "pyroscope"]')],
     "modules/iam gives grafana a task role"),
    # issue 11: the deploy role kept the gate's read-only statements after the smoke role took them
    ("iam_least_privilege", "smoke-reads-on-deploy-role",
     [(IAM_MAIN, '    actions   = ["ecs:DescribeServices"]\n    resources = [local.services_arn]',
       '    actions   = ["ecs:DescribeServices", "ecs:ListTasks", "elasticloadbalancing:DescribeTargetHealth"]\n'
       '    resources = [local.services_arn]')],
     "deploy role carries the smoke gate's reads (ecs:ListTasks, elasticloadbalancing:DescribeTargetHealth)"),
    ("iam_least_privilege", "oidc-provider-flag-not-wired",
     [("infra/terraform/environments/prod/02-iam/main.tf",
       "  create_github_oidc_provider = var.create_github_oidc_provider\n", "")],
     "02-iam does not pass create_github_oidc_provider"),
    ("otlp_receiver_reachable", "otlp-localhost",
     [(TEMPO, "endpoint: 0.0.0.0:4318", "endpoint: localhost:4318")],
     "OTLP http receiver endpoint is 'localhost:4318'"),
    ("grafana_datasources_and_auth", "datasource-via-alb",
     [(DATASOURCES, "url: http://loki.${CLOUDMAP_NAMESPACE}:3100", "url: http://${ALB_DNS}/loki")],
     "datasource 'loki' url 'http://${ALB_DNS}/loki' must start with http://loki.${CLOUDMAP_NAMESPACE}:3100"),
    ("grafana_datasources_and_auth", "anonymous-on",
     [("infra/images/grafana/grafana.ini", "[auth.anonymous]\nenabled = false", "[auth.anonymous]\nenabled = true")],
     "anonymous access must be disabled"),
    ("grafana_datasources_and_auth", "uid-changed",
     [(DATASOURCES, "uid: tempo", "uid: tempo-prod")],
     "no datasource with uid 'tempo'"),
    ("images_pin_base_version_and_expand_env", "no-expand-env",
     [("infra/images/loki/Dockerfile", ', "-config.expand-env=true"', "")],
     "CMD lacks -config.expand-env=true"),
    ("images_pin_base_version_and_expand_env", "tag-in-from",
     [("infra/images/tempo/Dockerfile", "FROM grafana/tempo:${VERSION}", "FROM grafana/tempo:latest")],
     "must be `ARG VERSION` then `FROM grafana/tempo:${VERSION}`"),
]


@pytest.mark.parametrize("check,edits,expected", [pytest.param(c, e, x, id=f"{c}[{i}]") for c, i, e, x in BROKEN])
def test_check_fails_on_broken_tree(tree, check, edits, expected):
    for rel, old, new in edits:
        tree.replace(rel, old, new)
    outcome = run_check(checks.CHECKS[check], tree.infra())
    assert outcome.status is Status.FAILED, f"{check} passed on a tree broken on purpose"
    assert "\n" not in outcome.cause, f"{check}: the cause is not one line: {outcome.cause!r}"
    problems = checks.problems_of(outcome)
    assert any(expected in p for p in problems), f"{check}: no message contains {expected!r}:\n  " + "\n  ".join(problems)


def test_copied_tree_passes_before_mutation(tree):
    """The copy itself is clean, so each failure above comes from its one edit."""
    results = checks.run_all(tree.infra())
    assert all(o.ok for o in results.values()), {k: o.message() for k, o in results.items() if not o.ok}
