"""Static preflight checks over infra/ (no AWS, no network): each one stops a failure the seed
logs (or an issue) hit, and its docstring cites the incident.

    from infra.preflight import Infra, run_all
    outcomes = run_all(Infra("/path/to/repo"))   # {check name: Outcome}, ordered by name

Run them all with ``python -m infra.preflight [repo root]`` or ``pytest -m preflight tests/preflight``.

One module per concern; a check lives in the module of what it checks, and its broken fixtures
in ``tests/preflight/test_<module>.py``:

| module | what it checks |
|---|---|
| `ecs.py` | Fargate sizes, ECS services, task definitions |
| `configs.py` | the services' configs and their keys, tenants, literals, Grafana |
| `storage.py` | S3: storage prefixes, endpoints, bucket versioning |
| `routes.py` | the ALB: route table, allow-list, listeners, security groups, health checks |
| `iam.py` | IAM roles and their trust |
| `workflows.py` | the GitHub workflows and the smoke gate |
| `images.py` | Dockerfiles, base versions, ECR tags, the build-args deploy-ecs.yaml passes |
| `wiring.py` | Terraform wiring: module inputs, remote-state outputs |
| `canary.py` | the smoke canary's schedule: its task's image and command, its task role, interval against deadline |
| `tree.py` | nothing itself: the shared reader (`Infra`, parsers and cache, `@preflight`, `run_all`, shared constants) |

| check (``preflight.<name>``) | module |
|---|---|
| fargate_cpu_memory_valid | `ecs.py` |
| grace_period_long_enough | `ecs.py` |
| deregistration_delay_le_stop_timeout | `ecs.py` |
| memcached_endpoint_from_elasticache | `ecs.py` |
| ecs_services_roll_back_on_smoke_alarm | `ecs.py` |
| smoke_alarm_watches_deploy_verdict | `ecs.py` |
| no_steady_state_wait_with_rollback_alarm | `ecs.py` |
| config_env_vars_set_in_task_definition | `configs.py` |
| tenant_consistent | `configs.py` |
| multitenancy_enabled | `configs.py` |
| no_hardcoded_region_bucket_ip | `configs.py` |
| config_keys_known_for_version | `configs.py` |
| runtime_config_file_is_local_path | `configs.py` |
| no_http_path_prefix | `configs.py` |
| grafana_datasources_and_auth | `configs.py` |
| storage_prefixes_consistent | `storage.py` |
| s3_endpoints_use_region_variable | `storage.py` |
| bucket_versioning | `storage.py` |
| health_checks_match_services | `routes.py` |
| alb_rules_from_route_table | `routes.py` |
| routes_allow_list_closed | `routes.py` |
| alb_listeners_https_and_redirect | `routes.py` |
| otlp_receiver_reachable | `routes.py` |
| iam_least_privilege | `iam.py` |
| smoke_role_writes_only_its_verdict | `iam.py` |
| smoke_gate_after_every_ecs_deploy | `workflows.py` |
| smoke_gate_runs_during_rollout | `workflows.py` |
| smoke_gate_credentials_and_secrets | `workflows.py` |
| smoke_gate_expects_built_tags | `workflows.py` |
| smoke_gate_uploads_reports | `workflows.py` |
| bootstrap_state_in_bootstrap_bucket | `workflows.py` |
| workflow_actions_pinned_to_sha | `workflows.py` |
| no_unlocked_install_with_secrets | `workflows.py` |
| ecr_tags_unique_per_build | `images.py` |
| images_pin_base_version_and_expand_env | `images.py` |
| mimir_rules_under_tenant | `images.py` |
| mimir_pages_through_its_alertmanager | `images.py` |
| module_inputs_declared | `wiring.py` |
| remote_state_outputs_exported | `wiring.py` |
| canary_runs_smoke_image | `canary.py` |
| canary_task_role_writes_only_metrics | `canary.py` |
| canary_run_ends_before_next_tick | `canary.py` |

A concern module imports only from `tree.py`, never from another concern (import-linter,
pyproject.toml); what two concerns both need moves to `tree.py`.

**Adding a check:** in the module of its concern, write

    @preflight
    def check_<failure>(infra: Infra) -> list[str]:
        \"\"\"What must hold.

        <date or issue>: what broke without it.
        \"\"\"
        return [...]  # one line per problem, naming the file and the fix; [] when it holds

add a row ``| <failure> | `<module>.py` |`` to the check table above and one to docs/infra.md's, and
give it at least one broken fixture in ``BROKEN`` of ``tests/preflight/test_<module>.py``. The
tests hold every part of that: the shipped tree passes, the docstring cites an incident, some
fixture makes it fail naming the cause, and the table above names it in its module. A new
concern is a new module: import it below, give it a row above, a place in the import-linter
contract's layer of concerns (pyproject.toml) and its own ``tests/preflight/test_<module>.py``.
"""

from . import canary, configs, ecs, iam, images, routes, storage, wiring, workflows  # noqa: F401 -- importing a concern registers its checks
from .tree import CHECKS, MODULE_OF, Infra, preflight, problems_of, run_all

__all__ = ["CHECKS", "MODULE_OF", "Infra", "preflight", "problems_of", "run_all"]
