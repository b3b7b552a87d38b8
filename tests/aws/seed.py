"""Seed a moto server with the whole stack, from the data the infra uses (common.tfvars +
infra/routes.json), and the in-process workarounds for what moto does not model.

The moto server runs in this (the test) process, so its backend objects can be edited
directly; the suite under test runs in a subprocess and only ever sees the HTTP API.

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
- Target health: IP targets are always healthy in moto; `unhealthy_target_group` patches
  `FakeTargetGroup.health_for` to report what a failing ALB health check reports.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import boto3

from lgtm_smoke import config as cfg
from lgtm_smoke.backends.alb import routes as routes_mod

REPO = Path(__file__).resolve().parents[2]
TFVARS = REPO / cfg.TFVARS_RELATIVE
ACCOUNT = "123456789012"  # moto's default account
BUILD = "20260116-043000"  # the ECR tag suffix deploy-ecs.yaml adds: <version>-<timestamp>
LOAD_BALANCED = ("grafana", "mimir", "loki", "tempo", "pyroscope")
# The edge_auth header values the seeded rules require (Terraform takes them from 02-iam's secret).
EDGE_SECRETS = ("seeded-edge-secret-current", "seeded-edge-secret-previous")


def tfvars() -> dict:
    return cfg.load_tfvars(TFVARS)


@dataclass
class Seeded:
    endpoint: str
    tf: dict
    region: str
    cluster: str
    lb_name: str
    lb_arn: str = ""
    listener_arn: str = ""
    tg_arns: dict[str, str] = field(default_factory=dict)  # route key -> arn
    rule_arns: dict[int, str] = field(default_factory=dict)  # priority -> arn
    service_names: dict[str, str] = field(default_factory=dict)  # short -> ECS service name
    taskdef_arns: dict[str, str] = field(default_factory=dict)
    task_arns: dict[str, list[str]] = field(default_factory=dict)
    cloudmap_ids: dict[str, str] = field(default_factory=dict)
    instance_ids: dict[str, str] = field(default_factory=dict)
    subnets: list[str] = field(default_factory=list)
    security_group: str = ""
    images: dict[str, str] = field(default_factory=dict)

    def client(self, name: str):
        return boto3.client(name, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def image_tag(self, svc: str) -> str:
        return self.images[svc].rsplit(":", 1)[-1]


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
        setattr(service, cfg_snake(name), value)


def cfg_snake(name: str) -> str:
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
def unhealthy_target_group(seed: Seeded, key: str, reason="Target.ResponseCodeMismatch",
                           description="Health checks failed with these codes: [404]"):
    """What the ALB reports when the health check path answers 404 (seed: /pyroscope/ready)."""
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    original = FakeTargetGroup.health_for
    arn = seed.tg_arns[key]

    def health_for(self, target, ec2_backend):
        if self.arn != arn:
            return original(self, target, ec2_backend)
        return FakeHealthStatus(target["Id"], target.get("Port", self.port), self.health_check_port, "unhealthy", reason, description)

    with mock.patch.object(FakeTargetGroup, "health_for", health_for):
        yield


def pin_tasks_running() -> None:
    """moto's tasks drift RUNNING → STOPPED on each describe_tasks; pin them (in process)."""
    from moto.moto_api import state_manager

    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})


# --- the stack --------------------------------------------------------------------------
def seed(endpoint: str) -> Seeded:
    tf = tfvars()
    routes = routes_mod.load()
    region = tf["aws_region"]
    project, env = tf["project_name"], tf["environment"]
    s = Seeded(endpoint=endpoint, tf=tf, region=region, cluster=tf["ecs_cluster_name"], lb_name=f"{project}-{env}-alb")
    pin_tasks_running()
    ec2, ecs, elb, s3 = s.client("ec2"), s.client("ecs"), s.client("elbv2"), s.client("s3")
    cache, sd = s.client("elasticache"), s.client("servicediscovery")

    # Network: VPC with DNS hostnames (needed by moto's run_task), two subnets, one SG.
    vpc = ec2.create_vpc(CidrBlock=tf["vpc_cidr"])["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    base = tf["vpc_cidr"].split(".")[:2]
    for i, az in enumerate(("a", "b")):
        s.subnets.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base[0]}.{base[1]}.{10 + i}.0/24",
                                           AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"])
    s.security_group = ec2.create_security_group(GroupName=f"{project}-{env}-ecs", Description="ecs", VpcId=vpc)["GroupId"]

    # S3: data bucket laid out as the backends write it, state bucket with versioning.
    loc = {"LocationConstraint": region}
    s3.create_bucket(Bucket=tf["data_bucket"], CreateBucketConfiguration=loc)
    s3.put_public_access_block(Bucket=tf["data_bucket"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=tf["data_bucket"], ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    tenant, p = tf["tenant_id"], tf["storage_prefixes"]
    for key in (f"{p['mimir']}/{tenant}/01JABCDEF/meta.json", f"{p['mimir']}/__mimir_cluster/mimir_cluster_seed.json",
                f"{p['loki']}/{tenant}/chunks/abc", f"{p['loki']}/index/index_20470/x.tsdb.gz",
                f"{p['tempo']}/{tenant}/blocks/meta.json", f"{p['pyroscope']}/{tenant}/phlaredb/block.parquet",
                "loki_cluster_seed.json", "tempo_cluster_seed.json", "pyroscope_cluster_seed.json"):
        s3.put_object(Bucket=tf["data_bucket"], Key=key, Body=b"{}")
    s3.create_bucket(Bucket=tf["state_bucket"], CreateBucketConfiguration=loc)
    s3.put_bucket_versioning(Bucket=tf["state_bucket"], VersioningConfiguration={"Status": "Enabled"})

    # ElastiCache memcached.
    mc = tf["memcached_config"]
    cache.create_cache_cluster(CacheClusterId=tf["memcached_cluster_id"], Engine="memcached",
                               CacheNodeType=mc["node_type"], NumCacheNodes=int(mc["num_cache_nodes"]))

    # ALB: target groups, listener, rules from infra/routes.json.
    s.lb_arn = elb.create_load_balancer(Name=s.lb_name, Subnets=s.subnets, SecurityGroups=[s.security_group],
                                        Scheme="internet-facing", Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    stop = {svc: int(c["stop_timeout"]) for svc, c in tf["service_config"].items()}
    for key, tg in routes.target_groups.items():
        hc = tg["health_check"]
        arn = elb.create_target_group(Name=f"{project}-{env}-{key}", Protocol="HTTP", Port=tg["port"], VpcId=vpc,
                                      TargetType="ip", HealthCheckPath=hc["path"], HealthCheckPort=str(hc["port"]),
                                      Matcher={"HttpCode": "200"})["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(stop[tg["service"]])}])
        s.tg_arns[key] = arn
    # As modules/alb: HTTPS carries the rules (default: the fixed 404), HTTP only redirects.
    https, http, default = routes.listeners[routes.rules_listener], routes.listeners["http"], routes.default_action
    cert = s.client("acm").request_certificate(DomainName="lgtm.example.com")["CertificateArn"]
    s.listener_arn = elb.create_listener(
        LoadBalancerArn=s.lb_arn, Protocol=https["protocol"], Port=https["port"], SslPolicy=https["ssl_policy"],
        Certificates=[{"CertificateArn": cert}], DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": str(default["status"]), "ContentType": default["content_type"], "MessageBody": default["body"]}}],
    )["Listeners"][0]["ListenerArn"]
    elb.create_listener(LoadBalancerArn=s.lb_arn, Protocol=http["protocol"], Port=http["port"], DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": str(https["port"]), "StatusCode": "HTTP_301"}}])
    for rule in routes.alb_rules():
        s.rule_arns[rule.priority] = create_rule(s, rule)

    # Cloud Map namespace + one service per ECS service.
    sd.create_private_dns_namespace(Name=tf["cloudmap_namespace"], Vpc=vpc)
    ns_id = next(n["Id"] for n in sd.list_namespaces()["Namespaces"] if n["Name"] == tf["cloudmap_namespace"])
    for svc in tf["service_config"]:
        s.cloudmap_ids[svc] = sd.create_service(Name=svc, NamespaceId=ns_id, DnsConfig={
            "DnsRecords": [{"Type": "A", "TTL": 10}]})["Service"]["Id"]

    # ECS: cluster, task definitions, services (steady), one running task each.
    ecs.create_cluster(clusterName=s.cluster)
    grace = int(tf["health_check_grace_period_seconds"])
    for i, (svc, conf) in enumerate(tf["service_config"].items()):
        s.images[svc] = image(tf, region, svc)
        s.taskdef_arns[svc] = register_task_definition(s, svc, conf)
        name = s.service_names[svc] = svc  # as modules/ecs names them (the suite also finds `*-svc`)
        lbs = ([{"targetGroupArn": s.tg_arns[k], "containerName": svc, "containerPort": t["port"]}
                for k, t in routes.target_groups.items() if t["service"] == svc] if svc in LOAD_BALANCED else [])
        deployment = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 200, "minimumHealthyPercent": 100}
        with mock.patch.dict(os.environ, {"MOTO_ECS_SERVICE_RUNNING": str(conf["desired_count"])}):
            ecs.create_service(cluster=s.cluster, serviceName=name, taskDefinition=s.taskdef_arns[svc],
                               desiredCount=int(conf["desired_count"]), launchType="FARGATE", loadBalancers=lbs,
                               healthCheckGracePeriodSeconds=grace if lbs else 0, deploymentConfiguration=deployment,
                               serviceRegistries=[{"registryArn": f"arn:aws:servicediscovery:{region}:{ACCOUNT}:service/{s.cloudmap_ids[svc]}"}],
                               networkConfiguration=network(s))
        keep_dropped_service_fields(s, svc, deploymentConfiguration=deployment,
                                    **({"healthCheckGracePeriodSeconds": grace} if lbs else {}))
        s.task_arns[svc] = [run_task(s, svc)]
        ip = f"{base[0]}.{base[1]}.10.{20 + i}"
        for k, t in routes.target_groups.items():
            if t["service"] == svc:
                elb.register_targets(TargetGroupArn=s.tg_arns[k], Targets=[{"Id": ip, "Port": t["port"]}])
        s.instance_ids[svc] = s.task_arns[svc][0].rsplit("/", 1)[-1]
        sd.register_instance(ServiceId=s.cloudmap_ids[svc], InstanceId=s.instance_ids[svc], Attributes={"AWS_INSTANCE_IPV4": ip})
    return s


def network(s: Seeded) -> dict:
    return {"awsvpcConfiguration": {"subnets": s.subnets, "securityGroups": [s.security_group], "assignPublicIp": "DISABLED"}}


def register_task_definition(s: Seeded, svc: str, conf: dict, image_uri: str | None = None, cpu=None, memory=None) -> str:
    tf, region = s.tf, s.region
    env = [{"name": "AWS_REGION", "value": region}, {"name": "TENANT_ID", "value": tf["tenant_id"]}]
    if svc in tf["storage_prefixes"]:  # as modules/ecs/locals.tf sets them
        env += [{"name": f"{svc.upper()}_S3_BUCKET", "value": tf["data_bucket"]},
                {"name": f"{svc.upper()}_STORAGE_PREFIX", "value": tf["storage_prefixes"][svc]}]
    if svc in ("mimir", "loki", "tempo"):
        env.append({"name": "MEMCACHED_ENDPOINT", "value": memcached_endpoint(tf, region)})
    cpu, memory = cpu or conf["cpu"], memory or conf["memory"]
    return s.client("ecs").register_task_definition(
        family=f"{tf['project_name']}-{tf['environment']}-{svc}", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
        cpu=str(cpu), memory=str(memory),
        containerDefinitions=[{"name": svc, "image": image_uri or s.images[svc], "essential": True,
                               "memory": int(memory),  # moto run_task needs container-level memory
                               "stopTimeout": int(conf["stop_timeout"]), "environment": env,
                               "portMappings": [{"containerPort": int(conf["container_port"]), "protocol": "tcp"}]}],
    )["taskDefinition"]["taskDefinitionArn"]


def run_task(s: Seeded, svc: str, taskdef: str | None = None) -> str:
    """A task as the service scheduler would start it (group service:<name>)."""
    return s.client("ecs").run_task(cluster=s.cluster, taskDefinition=taskdef or s.taskdef_arns[svc], launchType="FARGATE",
                                    group=f"service:{s.service_names[svc]}", networkConfiguration=network(s),
                                    startedBy=f"ecs-svc/{svc}")["tasks"][0]["taskArn"]


def create_rule(s: Seeded, rule: routes_mod.AlbRule, target_group: str | None = None, with_transform: bool = True) -> str:
    elb = s.client("elbv2")
    if rule.action == "forward":
        actions = [{"Type": "forward", "TargetGroupArn": s.tg_arns[target_group or rule.target_group]}]
    else:
        actions = [{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": str(rule.status), "ContentType": rule.content_type, "MessageBody": rule.body}}]
    conditions = [{"Field": "path-pattern", "PathPatternConfig": {"Values": list(rule.paths)}}]
    if rule.header:
        conditions.append({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": rule.header, "Values": list(EDGE_SECRETS)}})
    transforms = ([{"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": rule.rewrite[0], "Replace": rule.rewrite[1]}]}}]
                  if rule.rewrite and with_transform else None)
    kwargs = {"Transforms": transforms} if transforms else {}
    arn = elb.create_rule(ListenerArn=s.listener_arn, Priority=rule.priority, Actions=actions,
                          Conditions=conditions, **kwargs)["Rules"][0]["RuleArn"]
    keep_rule_transforms(s, arn, transforms)
    return arn
