"""Seed a moto server with the whole stack as the shipped Terraform would leave the account,
from the data the infra uses (common.tfvars, infra/routes.json, the IAM module's smoke
policy), and the in-process workarounds for what moto does not model.

The moto server runs in this process, so its backend objects can be edited directly; the
suite under test runs elsewhere and only ever sees the HTTP API. This module reads infra/
files directly and imports nothing of lgtm_smoke.

Workarounds (moto 5.2.x, see /work/shared/reference/tooling.md §1), each standing for what
real AWS does with the same request:
- `MOTO_ECS_SERVICE_RUNNING=<desired>` at create_service: the service reached steady state
  (running == desired, one PRIMARY deployment, rolloutState COMPLETED).
- `deploymentConfiguration` and `healthCheckGracePeriodSeconds` are accepted by moto's
  create_service but dropped; `keep_dropped_service_fields` stores exactly what the seeder
  sent on moto's Service object (moto's serializer then returns it), as ECS would.
- `Transforms` on create_rule are dropped; `keep_rule_transforms` stores what was sent on
  moto's rule object, as the ALB would.
- ECS tasks: services start none, so `run_task(group="service:<name>")` stands for the tasks
  the scheduler would start (with moto's fixes: container-level memory, a VPC with DNS
  hostnames, security groups) and the state manager pins them at RUNNING.
- Target health: IP targets are always healthy in moto; `target_health` patches
  `FakeTargetGroup.health_for` to report what the ALB reports (a failing health check, or
  `unused` / `Target.NotInUse` for a group no rule forwards to).
- ECS service deployments and the IAM resource of Logs / Secrets Manager calls: fidelity.py.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import boto3
import hcl2

from . import fidelity
from . import iam as iam_policy

REPO = Path(__file__).resolve().parents[3]
TFVARS = REPO / "infra/terraform/environments/prod/common.tfvars"
DEPLOY_ALARMS = REPO / "infra/terraform/modules/ecs/alarms.tf"  # the smoke verdict's alarm per service
ROUTES = REPO / "infra/routes.json"
ACCOUNT = "123456789012"  # moto's default account
BUILD = "20260116-043000"  # the ECR tag suffix deploy-ecs.yaml adds: <version>-<timestamp>
LOAD_BALANCED = ("grafana", "mimir", "loki", "tempo", "pyroscope")
ADMIN = ("AKIASEEDADMIN0000001", "seed-admin-secret")  # placeholder until the admin user exists
EDGE_AUTH_OFFSET = 500  # routes.json: an edge_auth rule's fixed-response twin sits at priority + 500
HEALTHY_LOG = {  # what each service logs once it is up (the evidence reader's "no error" case)
    "grafana": 'logger=http.server t=2026-01-16T04:30:12Z level=info msg="HTTP Server Listen" address=[::]:3000',
    "mimir": 'ts=2026-01-16T04:30:12Z caller=module_service.go:114 level=info msg="module waiting for initialization" '
    "module=distributor",
    "loki": 'level=info ts=2026-01-16T04:30:12Z caller=loki.go:520 msg="Loki started"',
    "tempo": 'level=info ts=2026-01-16T04:30:12Z caller=app.go:206 msg="Tempo started"',
    "pyroscope": 'level=info ts=2026-01-16T04:30:12Z caller=server.go:248 msg="server listening on addresses" '
    "http=[::]:4040",
    "alloy": 'ts=2026-01-16T04:30:12Z level=info msg="now listening for http traffic" service=http addr=0.0.0.0:12345',
}


def tfvars() -> dict:
    with open(TFVARS) as f:
        return hcl2.load(
            f,
            serialization_options=hcl2.SerializationOptions(
                strip_string_quotes=True, explicit_blocks=False, with_comments=False
            ),
        )


def routes() -> dict:
    return json.loads(ROUTES.read_text())


@dataclass
class Seeded:
    endpoint: str
    tf: dict
    routes: dict
    region: str
    cluster: str
    lb_name: str
    name: str = ""  # <project>-<environment>, the prefix of every resource name
    lb_arn: str = ""
    listener_arn: str = ""  # the listener the routes.json rules live on
    listener_arns: dict[str, str] = field(default_factory=dict)  # routes.json listener name -> arn
    tg_arns: dict[str, str] = field(default_factory=dict)  # route key -> arn
    rule_arns: dict[int, str] = field(default_factory=dict)  # priority -> arn
    service_names: dict[str, str] = field(default_factory=dict)  # short -> ECS service name
    service_arns: dict[str, str] = field(default_factory=dict)
    taskdef_arns: dict[str, str] = field(default_factory=dict)
    task_arns: dict[str, list[str]] = field(default_factory=dict)
    cloudmap_ids: dict[str, str] = field(default_factory=dict)
    instance_ids: dict[str, str] = field(default_factory=dict)
    subnets: list[str] = field(default_factory=list)
    security_group: str = ""
    images: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # grafana / edge -> secret ARN
    admin: tuple[str, str] = ADMIN  # access key of the seeding admin (moto IAM user)

    _clients: dict = field(default_factory=dict, repr=False)

    def client(self, name: str, credentials: dict | None = None):
        """A client as the seeding admin (made once per service and identity)."""
        creds = credentials or {"aws_access_key_id": self.admin[0], "aws_secret_access_key": self.admin[1]}
        key = (name, *sorted(creds.items()))
        if key not in self._clients:
            self._clients[key] = boto3.client(name, endpoint_url=self.endpoint, region_name=self.region, **creds)
        return self._clients[key]

    def image_tag(self, svc: str) -> str:
        return self.images[svc].rsplit(":", 1)[-1]

    def log_group(self, svc: str) -> str:
        return f"/ecs/{self.name}/{svc}"

    def log_stream(self, svc: str, task_arn: str) -> str:
        return f"{svc}/{svc}/{task_arn.rsplit('/', 1)[-1]}"  # awslogs-stream-prefix/container/task id

    @property
    def cluster_arn(self) -> str:
        return f"arn:aws:ecs:{self.region}:{ACCOUNT}:cluster/{self.cluster}"


def image(tf: dict, region: str, svc: str, build: str = BUILD) -> str:
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{tf['project_name']}-{svc}:{tf['image_versions'][svc]}-{build}"


def memcached_endpoint(tf: dict, region: str) -> str:
    return f"{tf['memcached_cluster_id']}.abc123.cfg.{region.replace('-northeast-', 'ne')}.cache.amazonaws.com:11211"


# --- moto backend access (in process) -------------------------------------------------------
def ecs_service(seed: Seeded, svc: str):
    from moto.ecs.models import ecs_backends

    return ecs_backends[ACCOUNT][seed.region].services[f"{seed.cluster}:{seed.service_names[svc]}"]


def keep_dropped_service_fields(seed: Seeded, svc: str, **fields) -> None:
    """Store what create_service was given (deploymentConfiguration, healthCheckGracePeriodSeconds)
    on moto's Service object under moto's snake_case names, so describe_services returns it."""
    service = ecs_service(seed, svc)
    for name, value in fields.items():
        setattr(service, snake(name), value)


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def rule_object(seed: Seeded, rule_arn: str):
    from moto.elbv2.models import elbv2_backends

    backend = elbv2_backends[ACCOUNT][seed.region]
    for rule in backend.describe_listeners(None, [seed.listener_arn])[0].rules.values():
        if rule.arn == rule_arn:
            return rule
    raise KeyError(rule_arn)


def keep_rule_transforms(seed: Seeded, rule_arn: str, transforms: list[dict] | None) -> None:
    """Store the Transforms create_rule was given on moto's rule (moto drops them)."""
    rule = rule_object(seed, rule_arn)
    if transforms:
        rule.transforms = transforms
    elif hasattr(rule, "transforms"):
        del rule.transforms


@contextlib.contextmanager
def target_health(
    seed: Seeded,
    key: str,
    state="unhealthy",
    reason="Target.ResponseCodeMismatch",
    description="Health checks failed with these codes: [404]",
):
    """What the ALB reports for the targets of group `key`: by default a health check path
    answering 404 (seed: /pyroscope/ready); `unused`/`Target.NotInUse` for an orphaned group."""
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    original = FakeTargetGroup.health_for
    arn = seed.tg_arns[key]

    def health_for(self, target, ec2_backend):
        if self.arn != arn:
            return original(self, target, ec2_backend)
        return FakeHealthStatus(
            target["Id"], target.get("Port", self.port), self.health_check_port, state, reason, description
        )

    with mock.patch.object(FakeTargetGroup, "health_for", health_for):
        yield


def pin_tasks_running() -> None:
    """moto's tasks drift RUNNING → STOPPED on each describe_tasks; pin them (in process)."""
    from moto.moto_api import state_manager

    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})


def enforce_iam(on: bool) -> None:
    """moto checks every request's signature and IAM policy (on) or none (off)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if on else float("inf")
    ActionAuthenticatorMixin.request_count = 0


# --- routes.json as the ALB rules Terraform makes of it -------------------------------------
def alb_rules(routes: dict) -> list[dict]:
    """(priority, paths, actions, header) per ALB rule; an edge_auth rule is two: forward with
    the edge header, and at priority + 500 the fixed response for requests without it."""
    edge = routes.get("edge_auth") or {}
    out = []
    for r in routes["rules"]:
        if r.get("action", "forward") == "forward":
            out.append(
                {
                    "priority": r["priority"],
                    "paths": r["paths"],
                    "target_group": r["target_group"],
                    "header": edge.get("header") if r.get("edge_auth") else None,
                    "rewrite": r.get("rewrite"),
                }
            )
        else:
            out.append(
                {
                    "priority": r["priority"],
                    "paths": r["paths"],
                    "fixed": {"StatusCode": "403", "ContentType": "text/plain", "MessageBody": "denied"},
                }
            )
        if r.get("edge_auth"):
            unauth = edge.get("unauthenticated") or {}
            out.append(
                {
                    "priority": r["priority"] + EDGE_AUTH_OFFSET,
                    "paths": r["paths"],
                    "fixed": {
                        "StatusCode": str(unauth.get("status", 401)),
                        "ContentType": "text/plain",
                        "MessageBody": unauth.get("body", ""),
                    },
                }
            )
    return out


def default_actions(s: Seeded) -> list[dict]:
    d = s.routes.get("default_action")
    if d:
        return [
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {
                    "StatusCode": str(d["status"]),
                    "ContentType": d.get("content_type", "text/plain"),
                    "MessageBody": d.get("body", ""),
                },
            }
        ]
    return [{"Type": "forward", "TargetGroupArn": s.tg_arns[s.routes["default_target_group"]]}]


def create_rule(s: Seeded, rule: dict, target_group: str | None = None, with_transform: bool = True) -> str:
    elb = s.client("elbv2")
    if "fixed" in rule:
        actions = [{"Type": "fixed-response", "FixedResponseConfig": rule["fixed"]}]
    else:
        actions = [{"Type": "forward", "TargetGroupArn": s.tg_arns[target_group or rule["target_group"]]}]
    conditions = [{"Field": "path-pattern", "PathPatternConfig": {"Values": list(rule["paths"])}}]
    if rule.get("header"):
        conditions.append(
            {
                "Field": "http-header",
                "HttpHeaderConfig": {
                    "HttpHeaderName": rule["header"],
                    "Values": [s.tf.get("_edge_secret", "seeded-edge-secret")],
                },
            }
        )
    rw = rule.get("rewrite")
    transforms = (
        [{"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": rw["regex"], "Replace": rw["replace"]}]}}]
        if rw and with_transform
        else None
    )
    arn = elb.create_rule(
        ListenerArn=s.listener_arn,
        Priority=rule["priority"],
        Actions=actions,
        Conditions=conditions,
        **({"Transforms": transforms} if transforms else {}),
    )["Rules"][0]["RuleArn"]
    keep_rule_transforms(s, arn, transforms)
    return arn


def rule_for(s: Seeded, priority: int) -> dict:
    return next(r for r in alb_rules(s.routes) if r["priority"] == priority)


# --- the stack --------------------------------------------------------------------------
def seed(endpoint: str) -> Seeded:
    """The account as the shipped Terraform leaves it. Call with IAM enforcement off; it
    creates the admin user whose keys `Seeded.client` uses from then on."""
    fidelity.install()
    tf, rt = tfvars(), routes()
    region = tf["aws_region"]
    project, env = tf["project_name"], tf["environment"]
    s = Seeded(
        endpoint=endpoint,
        tf=tf,
        routes=rt,
        region=region,
        cluster=tf["ecs_cluster_name"],
        lb_name=f"{project}-{env}-alb",
        name=f"{project}-{env}",
    )
    pin_tasks_running()
    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name=region, aws_access_key_id="seed", aws_secret_access_key="seed"
    )
    iam.create_user(UserName="lgtm-seed-admin")
    iam.put_user_policy(
        UserName="lgtm-seed-admin",
        PolicyName="admin",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="lgtm-seed-admin")["AccessKey"]
    s.admin = (key["AccessKeyId"], key["SecretAccessKey"])
    ec2, ecs, elb, s3 = s.client("ec2"), s.client("ecs"), s.client("elbv2"), s.client("s3")
    cache, sd, logs, sm = (
        s.client("elasticache"),
        s.client("servicediscovery"),
        s.client("logs"),
        s.client("secretsmanager"),
    )

    # Network: VPC with DNS hostnames (needed by moto's run_task), two subnets, one SG.
    vpc = ec2.create_vpc(CidrBlock=tf["vpc_cidr"])["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    base = tf["vpc_cidr"].split(".")[:2]
    for i, az in enumerate(("a", "b")):
        s.subnets.append(
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"{base[0]}.{base[1]}.{10 + i}.0/24", AvailabilityZone=f"{region}{az}"
            )["Subnet"]["SubnetId"]
        )
    s.security_group = ec2.create_security_group(GroupName=f"{project}-{env}-ecs", Description="ecs", VpcId=vpc)[
        "GroupId"
    ]

    # Secrets (modules/iam): the Grafana admin password and the ALB edge secret.
    s.secrets["grafana"] = sm.create_secret(
        Name=f"{s.name}/grafana/admin-password", SecretString="seeded-grafana-admin"
    )["ARN"]
    s.secrets["edge"] = sm.create_secret(Name=f"{s.name}/alb/edge-secret", SecretString="seeded-edge-secret")["ARN"]

    # S3 (modules/s3): data bucket laid out as the backends write it, SSE-KMS with a Bucket
    # Key, public access blocked; the state bucket versioned.
    loc = {"LocationConstraint": region}
    s3.create_bucket(Bucket=tf["data_bucket"], CreateBucketConfiguration=loc)
    s3.put_public_access_block(
        Bucket=tf["data_bucket"],
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    put_kms_encryption(s)
    tenant, p = tf["tenant_id"], tf["storage_prefixes"]
    for key in (
        f"{p['mimir']}/{tenant}/01JABCDEF/meta.json",
        f"{p['mimir']}/__mimir_cluster/mimir_cluster_seed.json",
        f"{p['loki']}/{tenant}/chunks/abc",
        f"{p['loki']}/index/index_20470/x.tsdb.gz",
        f"{p['tempo']}/{tenant}/blocks/meta.json",
        f"{p['pyroscope']}/{tenant}/phlaredb/block.parquet",
        "loki_cluster_seed.json",
        "tempo_cluster_seed.json",
        "pyroscope_cluster_seed.json",
    ):
        s3.put_object(Bucket=tf["data_bucket"], Key=key, Body=b"{}")
    s3.create_bucket(Bucket=tf["state_bucket"], CreateBucketConfiguration=loc)
    s3.put_bucket_versioning(Bucket=tf["state_bucket"], VersioningConfiguration={"Status": "Enabled"})

    # ElastiCache memcached.
    mc = tf["memcached_config"]
    cache.create_cache_cluster(
        CacheClusterId=tf["memcached_cluster_id"],
        Engine="memcached",
        CacheNodeType=mc["node_type"],
        NumCacheNodes=int(mc["num_cache_nodes"]),
    )

    # ALB: target groups, listeners, rules from infra/routes.json.
    s.lb_arn = elb.create_load_balancer(
        Name=s.lb_name,
        Subnets=s.subnets,
        SecurityGroups=[s.security_group],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    stop = {svc: int(c["stop_timeout"]) for svc, c in tf["service_config"].items()}
    for key, tg in rt["target_groups"].items():
        hc = tg["health_check"]
        arn = elb.create_target_group(
            Name=f"{project}-{env}-{key}",
            Protocol="HTTP",
            Port=tg["port"],
            VpcId=vpc,
            TargetType="ip",
            HealthCheckPath=hc["path"],
            HealthCheckPort=str(hc["port"]),
            Matcher={"HttpCode": "200"},
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(stop[tg["service"]])}],
        )
        s.tg_arns[key] = arn
    create_listeners(s)
    for rule in alb_rules(rt):
        s.rule_arns[rule["priority"]] = create_rule(s, rule)

    # Cloud Map namespace + one service per ECS service (health_check_custom_config {}).
    sd.create_private_dns_namespace(Name=tf["cloudmap_namespace"], Vpc=vpc)
    ns_id = next(n["Id"] for n in sd.list_namespaces()["Namespaces"] if n["Name"] == tf["cloudmap_namespace"])
    for svc in tf["service_config"]:
        s.cloudmap_ids[svc] = sd.create_service(
            Name=svc,
            NamespaceId=ns_id,
            DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
            HealthCheckCustomConfig={"FailureThreshold": 1},
        )["Service"]["Id"]

    # ECS: cluster, task definitions, services (steady), one running task each, its log stream
    # and its one successful service deployment.
    ecs.create_cluster(clusterName=s.cluster)
    grace = int(tf["health_check_grace_period_seconds"])
    for i, (svc, conf) in enumerate(tf["service_config"].items()):
        logs.create_log_group(logGroupName=s.log_group(svc))
        s.images[svc] = image(tf, region, svc)
        s.taskdef_arns[svc] = register_task_definition(s, svc, conf)
        name = s.service_names[svc] = svc  # as modules/ecs names them (the suite also finds `*-svc`)
        lbs = (
            [
                {"targetGroupArn": s.tg_arns[k], "containerName": svc, "containerPort": t["port"]}
                for k, t in rt["target_groups"].items()
                if t["service"] == svc
            ]
            if svc in LOAD_BALANCED
            else []
        )
        deployment = {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            # modules/ecs: each service's `alarms` block names its smoke alarm, rollback on
            "alarms": {"alarmNames": [put_deploy_alarm(s, svc)], "enable": True, "rollback": True},
        }
        with mock.patch.dict(os.environ, {"MOTO_ECS_SERVICE_RUNNING": str(conf["desired_count"])}):
            s.service_arns[svc] = ecs.create_service(
                cluster=s.cluster,
                serviceName=name,
                taskDefinition=s.taskdef_arns[svc],
                desiredCount=int(conf["desired_count"]),
                launchType="FARGATE",
                loadBalancers=lbs,
                healthCheckGracePeriodSeconds=grace if lbs else 0,
                deploymentConfiguration=deployment,
                networkConfiguration=network(s),
                serviceRegistries=[
                    {"registryArn": f"arn:aws:servicediscovery:{region}:{ACCOUNT}:service/{s.cloudmap_ids[svc]}"}
                ],
            )["service"]["serviceArn"]
        keep_dropped_service_fields(
            s, svc, deploymentConfiguration=deployment, **({"healthCheckGracePeriodSeconds": grace} if lbs else {})
        )
        record_deployment(s, svc, s.taskdef_arns[svc])
        s.task_arns[svc] = [run_task(s, svc)]
        write_logs(s, svc, s.task_arns[svc][0], [HEALTHY_LOG[svc]])
        ip = f"{base[0]}.{base[1]}.10.{20 + i}"
        for k, t in rt["target_groups"].items():
            if t["service"] == svc:
                elb.register_targets(TargetGroupArn=s.tg_arns[k], Targets=[{"Id": ip, "Port": t["port"]}])
        s.instance_ids[svc] = s.task_arns[svc][0].rsplit("/", 1)[-1]
        sd.register_instance(
            ServiceId=s.cloudmap_ids[svc], InstanceId=s.instance_ids[svc], Attributes={"AWS_INSTANCE_IPV4": ip}
        )
    create_smoke_role(s)
    return s


def put_kms_encryption(s: Seeded) -> None:
    """modules/s3/main.tf: sse_algorithm aws:kms (the aws/s3 key), bucket_key_enabled."""
    s.client("s3").put_bucket_encryption(
        Bucket=s.tf["data_bucket"],
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]
        },
    )


def create_listeners(s: Seeded) -> None:
    """Each listener routes.json lists (HTTPS with a certificate, HTTP redirecting to it), or the
    old single HTTP listener; the rules go on `rules_listener`."""
    elb, rt = s.client("elbv2"), s.routes
    listeners = rt.get("listeners") or {"http": dict(rt.get("listener") or {"port": 80, "protocol": "HTTP"})}
    rules_on = rt.get("rules_listener", "http")
    for name, conf in listeners.items():
        kwargs = {}
        if conf.get("protocol") == "HTTPS":
            cert = s.client("acm").request_certificate(DomainName=f"{s.name}.example.com")["CertificateArn"]
            kwargs = {
                "Certificates": [{"CertificateArn": cert}],
                "SslPolicy": conf.get("ssl_policy", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
            }
        if conf.get("redirect_to"):
            target = listeners[conf["redirect_to"]]
            actions = [
                {
                    "Type": "redirect",
                    "RedirectConfig": {
                        "Protocol": target.get("protocol", "HTTPS"),
                        "Port": str(target["port"]),
                        "StatusCode": "HTTP_301",
                    },
                }
            ]
        else:
            actions = default_actions(s)
        s.listener_arns[name] = elb.create_listener(
            LoadBalancerArn=s.lb_arn,
            Protocol=conf.get("protocol", "HTTP"),
            Port=conf["port"],
            DefaultActions=actions,
            **kwargs,
        )["Listeners"][0]["ListenerArn"]
    s.listener_arn = s.listener_arns[rules_on]


@contextlib.contextmanager
def deploying(s: Seeded, svc: str, image_tag: str):
    """A deploy of `svc` as 60-ecs applies it without waiting: a new task definition with the
    image `<repository>:<image_tag>`, set by UpdateService (the account then serves the rolling
    deployment and its alarms: deployment_alarms.py). Yields the new task definition's ARN;
    afterwards the service, its tasks and deployment history, the published smoke metrics and
    the alarms' states are as before."""
    import copy

    from moto.ecs.models import ecs_backends

    from . import deployment_alarms

    service = ecs_service(s, svc)
    saved = (service.task_definition, copy.deepcopy(service.deployments), list(service.events))
    history = len(fidelity.DEPLOYMENTS.deployments[s.service_arns[svc]])
    new = register_task_definition(s, svc, s.tf["service_config"][svc],
                                   image_uri=s.images[svc].rsplit(":", 1)[0] + f":{image_tag}")
    try:
        s.client("ecs").update_service(cluster=s.cluster, service=s.service_names[svc], taskDefinition=new)
        yield new
    finally:
        service.task_definition, service.deployments[:], service.events[:] = saved
        deployment_alarms.tasks_run(ecs_backends[ACCOUNT][s.region], service, saved[0])
        while len(fidelity.DEPLOYMENTS.deployments[s.service_arns[svc]]) > history:
            fidelity.DEPLOYMENTS.undo(s.service_arns[svc])
        deployment_alarms.ALARMS.watching.pop(s.service_arns[svc], None)
        forget_smoke_metrics(s)


def forget_smoke_metrics(s: Seeded) -> None:
    """The smoke namespace as the seed left it: no datapoints, every alarm OK (a test that
    published puts the account back, or the next deployment would see its datapoints)."""
    from moto.cloudwatch.models import cloudwatch_backends

    cloudwatch = cloudwatch_backends[ACCOUNT][s.region]
    cloudwatch.metric_data[:] = [m for m in cloudwatch.metric_data if m.namespace != s.tf["smoke_metric_namespace"]]
    for alarm in cloudwatch.alarms.values():
        alarm.update_state("reset after the test", "{}", "OK")


def put_deploy_alarm(s: Seeded, svc: str) -> str:
    """The service's deploy alarm as modules/ecs/alarms.tf makes it (read from that file, its
    each.key, var.name and var.smoke_metric_namespace filled in); returns its name."""
    with open(DEPLOY_ALARMS) as f:
        tree = hcl2.load(
            f,
            serialization_options=hcl2.SerializationOptions(
                strip_string_quotes=True, explicit_blocks=False, with_comments=False
            ),
        )
    spec = next(r["aws_cloudwatch_metric_alarm"]["smoke"] for r in tree["resource"] if "aws_cloudwatch_metric_alarm" in r)
    refs = {"${each.key}": svc, "${var.name}": s.name, "${var.smoke_metric_namespace}": s.tf["smoke_metric_namespace"]}

    def fill(value):
        if isinstance(value, str):
            for ref, to in refs.items():
                value = value.replace(ref, to)
        return value

    name = fill(spec["alarm_name"])
    s.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        AlarmDescription=fill(spec["alarm_description"]),
        Namespace=fill(spec["namespace"]),
        MetricName=spec["metric_name"],
        Dimensions=[{"Name": k, "Value": fill(v)} for k, v in spec["dimensions"].items()],
        Statistic=spec["statistic"],
        Period=int(spec["period"]),
        EvaluationPeriods=int(spec["evaluation_periods"]),
        DatapointsToAlarm=int(spec["datapoints_to_alarm"]),
        Threshold=float(spec["threshold"]),
        ComparisonOperator=spec["comparison_operator"],
        TreatMissingData=spec["treat_missing_data"],
    )
    return name


def record_deployment(
    s: Seeded, svc: str, taskdef_arn: str, status: str = "SUCCESSFUL", reason: str = "", image_uri: str | None = None
) -> str:
    """The service deployment ECS keeps for a rollout of `taskdef_arn` (fidelity.Deployments)."""
    images = [
        {
            "containerName": svc,
            "image": image_uri or s.images[svc],
            "imageDigest": "sha256:" + format(abs(hash((svc, image_uri or s.images[svc]))), "064x")[:64],
        }
    ]
    return fidelity.DEPLOYMENTS.record(s.service_arns[svc], s.cluster_arn, taskdef_arn, images, status, reason)


def write_logs(s: Seeded, svc: str, task_arn: str, lines: list[str]) -> None:
    """The task's CloudWatch log stream, as the awslogs driver writes it."""
    import time

    logs, stream = s.client("logs"), s.log_stream(svc, task_arn)
    try:
        logs.create_log_stream(logGroupName=s.log_group(svc), logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=s.log_group(svc),
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
    )


def smoke_policy(s: Seeded, drop: tuple[str, ...] = ()) -> str:
    """The smoke role's policy from infra/terraform/modules/iam/smoke.tf, for this account."""
    refs = {
        "var.name": s.name,
        "var.data_bucket": s.tf["data_bucket"],
        "var.state_bucket": s.tf["state_bucket"],
        "local.partition": "aws",
        "local.region": s.region,
        "local.account": ACCOUNT,
        "aws_secretsmanager_secret.grafana_admin.arn": s.secrets["grafana"],
        "aws_secretsmanager_secret.edge.arn": s.secrets["edge"],
    }
    return iam_policy.render(REPO, refs, drop)


# A role the seeding admin may assume (sts:AssumeRole), standing in for GitHub's OIDC trust.
ADMIN_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/lgtm-seed-admin"}}
    ],
}


def create_smoke_role(s: Seeded) -> str:
    iam = s.client("iam")
    # The gate assumes it through GitHub's OIDC provider; here the seeding admin stands in.
    arn = iam.create_role(RoleName=f"{s.name}-smoke", AssumeRolePolicyDocument=json.dumps(ADMIN_TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName=f"{s.name}-smoke", PolicyName="smoke-read-only", PolicyDocument=smoke_policy(s))
    return arn


@contextlib.contextmanager
def smoke_policy_without(s: Seeded, *actions: str):
    """The smoke role with `actions` removed from its policy (restored after)."""
    iam = s.client("iam")
    iam.put_role_policy(
        RoleName=f"{s.name}-smoke", PolicyName="smoke-read-only", PolicyDocument=smoke_policy(s, actions)
    )
    try:
        yield
    finally:
        iam.put_role_policy(RoleName=f"{s.name}-smoke", PolicyName="smoke-read-only", PolicyDocument=smoke_policy(s))


def smoke_credentials(s: Seeded, session: str = "lgtm-smoke-gate") -> dict:
    """Temporary credentials of the smoke role (sts:AssumeRole, as the gate's OIDC step gets)."""
    creds = s.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{s.name}-smoke", RoleSessionName=session)[
        "Credentials"
    ]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


def network(s: Seeded) -> dict:
    return {
        "awsvpcConfiguration": {
            "subnets": s.subnets,
            "securityGroups": [s.security_group],
            "assignPublicIp": "DISABLED",
        }
    }


def register_task_definition(
    s: Seeded, svc: str, conf: dict, image_uri: str | None = None, cpu=None, memory=None, extra_env: dict | None = None
) -> str:
    tf, region = s.tf, s.region
    env = [{"name": "AWS_REGION", "value": region}, {"name": "TENANT_ID", "value": tf["tenant_id"]}]
    if svc in tf["storage_prefixes"]:  # as modules/ecs/locals.tf sets them
        env += [
            {"name": f"{svc.upper()}_S3_BUCKET", "value": tf["data_bucket"]},
            {"name": f"{svc.upper()}_STORAGE_PREFIX", "value": tf["storage_prefixes"][svc]},
        ]
    if svc in ("mimir", "loki", "tempo"):
        env.append({"name": "MEMCACHED_ENDPOINT", "value": memcached_endpoint(tf, region)})
    env += [{"name": k, "value": v} for k, v in (extra_env or {}).items()]
    cpu, memory = cpu or conf["cpu"], memory or conf["memory"]
    return s.client("ecs").register_task_definition(
        family=f"{tf['project_name']}-{tf['environment']}-{svc}",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu=str(cpu),
        memory=str(memory),
        containerDefinitions=[
            {
                "name": svc,
                "image": image_uri or s.images[svc],
                "essential": True,
                "memory": int(memory),  # moto run_task needs container-level memory
                "stopTimeout": int(conf["stop_timeout"]),
                "environment": env,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": s.log_group(svc),
                        "awslogs-region": region,
                        "awslogs-stream-prefix": svc,
                    },
                },
                "portMappings": [{"containerPort": int(conf["container_port"]), "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]


def run_task(s: Seeded, svc: str, taskdef: str | None = None) -> str:
    """A task as the service scheduler would start it (group service:<name>)."""
    return s.client("ecs").run_task(
        cluster=s.cluster,
        taskDefinition=taskdef or s.taskdef_arns[svc],
        launchType="FARGATE",
        group=f"service:{s.service_names[svc]}",
        networkConfiguration=network(s),
        startedBy=f"ecs-svc/{svc}",
    )["tasks"][0]["taskArn"]
