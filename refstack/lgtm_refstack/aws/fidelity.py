"""What moto does not do and AWS does, served in the moto server's own process, each response
held to botocore's output shape before it is sent (shapes.py):

- ECS service deployments (ListServiceDeployments, DescribeServiceDeployments,
  DescribeServiceRevisions): answered from `Deployments`, the history the seed and the fault
  scenarios record (moto 5.2 has none of the three). They go through moto's own request
  handling, so IAM enforcement applies to them as to any call.
- IAM resources: moto checks every non-S3 action against resource "*"; for CloudWatch Logs
  and Secrets Manager, whose smoke statements are scoped to ARNs, the request's own resource
  ARN is passed instead (log group / secret), then moto's evaluator decides as before.
- S3 action names: moto 5.2.6 authorizes S3 requests under the API operation's name
  (`s3:ListObjectsV2`); IAM authorizes them under its own action names (`s3:ListBucket`).
  `S3_IAM_ACTIONS` maps one to the other before moto's evaluator decides.
- ECS deployment alarms (deployment_alarms.py): a deployment IN_PROGRESS whose alarm goes to
  ALARM fails and rolls back; moto evaluates no alarm and makes no new deployment.
- CloudWatch IAM (`cloudwatch_iam`): the action AWS checks (`cloudwatch:*`, not moto's
  `monitoring:*`) and the `cloudwatch:namespace` condition key, evaluated as AWS documents.
- `serve_error(...)`: one operation answers an AWS error (throttling, AccessDenied, expired
  token) the way AWS serializes it, `times` times or for as long as the context lasts.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import botocore.session

_models = botocore.session.get_session()
_lock = threading.Lock()
_installed = False


@dataclass
class Deployments:
    """ECS service deployments and revisions, as AWS keeps them (newest last)."""

    deployments: dict[str, list[dict]] = field(default_factory=dict)  # service ARN -> [ServiceDeployment]
    revisions: dict[str, dict] = field(default_factory=dict)  # revision ARN -> ServiceRevision

    def record(
        self,
        service_arn: str,
        cluster_arn: str,
        taskdef_arn: str,
        images: list[dict],
        status: str = "SUCCESSFUL",
        reason: str = "",
        rollback_to: str | None = None,
        when: datetime | None = None,
    ) -> str:
        """One deployment of `taskdef_arn` that ended `status`; returns its ARN."""
        when = when or datetime.now(UTC)
        n = len(self.deployments.get(service_arn, [])) + 1
        name = service_arn.rsplit("/", 1)[-1]
        cluster = cluster_arn.rsplit("/", 1)[-1]
        base = service_arn.replace(":service/", ":service-revision/")
        revision = f"{base}/{n:019d}"
        self.revisions[revision] = {
            "serviceRevisionArn": revision,
            "serviceArn": service_arn,
            "clusterArn": cluster_arn,
            "taskDefinition": taskdef_arn,
            "launchType": "FARGATE",
            "platformFamily": "Linux",
            "containerImages": images,
            "createdAt": when.timestamp(),
        }
        previous = self.deployments.get(service_arn, [])
        source = (
            []
            if not previous
            else [
                {
                    "arn": previous[-1]["targetServiceRevision"]["arn"],
                    "requestedTaskCount": 1,
                    "runningTaskCount": 1 if status.startswith("ROLLBACK") else 0,
                    "pendingTaskCount": 0,
                }
            ]
        )
        arn = (
            service_arn.replace(":service/", ":service-deployment/").replace(f"/{cluster}/{name}", f"/{cluster}/{name}")
            + f"/d{n:03d}"
        )
        dep = {
            "serviceDeploymentArn": arn,
            "serviceArn": service_arn,
            "clusterArn": cluster_arn,
            "createdAt": when.timestamp(),
            "startedAt": when.timestamp(),
            "updatedAt": when.timestamp(),
            "status": status,
            "sourceServiceRevisions": source,
            "targetServiceRevision": {
                "arn": revision,
                "requestedTaskCount": 1,
                "runningTaskCount": 1 if status == "SUCCESSFUL" else 0,
                "pendingTaskCount": 0,
            },
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
            },
        }
        if status != "IN_PROGRESS":
            dep["finishedAt"] = when.timestamp()
        if reason:
            dep["statusReason"] = reason
        if status.startswith("ROLLBACK"):
            dep["rollback"] = {
                "reason": reason,
                "startedAt": when.timestamp(),
                "serviceRevisionArn": rollback_to or (source[0]["arn"] if source else revision),
            }
            dep["deploymentCircuitBreaker"] = {"status": "TRIGGERED", "failureCount": 3, "threshold": 3}
        self.deployments.setdefault(service_arn, []).append(dep)
        return arn

    def undo(self, service_arn: str) -> None:
        self.deployments[service_arn].pop()


DEPLOYMENTS = Deployments()


def _valid(service: str, operation: str, body: dict) -> str:
    """The JSON body, after checking it against botocore's output shape (AssertionError if not)."""
    from .shapes import problems

    model = _models.get_service_model(service).operation_model(operation)
    text = json.dumps(body)
    wrong = problems(model, text.encode())
    assert not wrong, f"served {service}.{operation} differs from botocore's model: {wrong}"
    return text


def _list_service_deployments(self) -> str:
    service, cluster = self._get_param("service"), self._get_param("cluster", "default")
    arn = next(
        (
            a
            for a in DEPLOYMENTS.deployments
            if a.endswith(f"/{cluster.rsplit('/', 1)[-1]}/{service.rsplit('/', 1)[-1]}")
        ),
        None,
    )
    briefs = [
        {
            k: d[k]
            for k in (
                "serviceDeploymentArn",
                "serviceArn",
                "clusterArn",
                "startedAt",
                "createdAt",
                "finishedAt",
                "status",
                "statusReason",
            )
            if k in d
        }
        | {"targetServiceRevisionArn": d["targetServiceRevision"]["arn"]}
        for d in DEPLOYMENTS.deployments.get(arn, [])
    ]
    return _valid("ecs", "ListServiceDeployments", {"serviceDeployments": list(reversed(briefs))})


def _describe_service_deployments(self) -> str:
    wanted = set(self._get_param("serviceDeploymentArns", []))
    found = [d for deps in DEPLOYMENTS.deployments.values() for d in deps if d["serviceDeploymentArn"] in wanted]
    missing = wanted - {d["serviceDeploymentArn"] for d in found}
    return _valid(
        "ecs",
        "DescribeServiceDeployments",
        {"serviceDeployments": found, "failures": [{"arn": a, "reason": "MISSING"} for a in sorted(missing)]},
    )


def _describe_service_revisions(self) -> str:
    wanted = self._get_param("serviceRevisionArns", [])
    return _valid(
        "ecs",
        "DescribeServiceRevisions",
        {
            "serviceRevisions": [DEPLOYMENTS.revisions[a] for a in wanted if a in DEPLOYMENTS.revisions],
            "failures": [{"arn": a, "reason": "MISSING"} for a in wanted if a not in DEPLOYMENTS.revisions],
        },
    )


def _resource_of(action: str, data: dict, region: str, account: str) -> str | None:
    """The ARN a Logs or Secrets Manager request acts on (AWS evaluates the policy against it)."""
    if action.startswith("logs:") and data.get("logGroupName"):
        stream = data.get("logStreamName")
        group = f"arn:aws:logs:{region}:{account}:log-group:{data['logGroupName']}"
        return f"{group}:log-stream:{stream}" if stream else group
    if action.startswith("secretsmanager:") and data.get("SecretId"):
        from moto.secretsmanager.models import secretsmanager_backends

        secret_id = data["SecretId"]
        try:
            return secretsmanager_backends[account][region].describe_secret(secret_id).arn
        except Exception:  # noqa: BLE001 - an unknown secret: AWS answers ResourceNotFound after auth
            return secret_id
    return None


# moto 5.2.6 names the S3 action it authorizes after the API operation (moto/s3/responses.py sets
# data["Action"] = "ListObjectsV2", then checks "s3:ListObjectsV2"); 5.2.5 and older used IAM's
# names from its ACTION_MAP. AWS authorizes each operation as the action the Service
# Authorization Reference lists for it ("Actions defined by Amazon S3",
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html), so a
# policy granting s3:ListBucket must allow ListObjectsV2. Only the operations whose action name
# differs from the operation name are here; every key is an S3 operation of botocore's model
# (tests/refstack/test_aws_fidelity.py). Never widen the policy under test to moto's names.
S3_IAM_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    "ListBuckets": "ListAllMyBuckets",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetBucketCors": "GetBucketCORS",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "UploadPartCopy": "PutObject",
    "CopyObject": "PutObject",
    "SelectObjectContent": "GetObject",
}


def s3_iam_action(action: str) -> str:
    """The IAM action AWS authorizes for moto's S3 action `s3:<name>` (unchanged when IAM has that name)."""
    service, _, name = action.partition(":")
    return f"s3:{S3_IAM_ACTIONS[name]}" if service == "s3" and name in S3_IAM_ACTIONS else action


def install() -> None:
    """Patch the in-process moto once (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.ecs.responses import EC2ContainerServiceResponse
        from moto.iam.access_control import IAMRequest

        EC2ContainerServiceResponse.list_service_deployments = _list_service_deployments
        EC2ContainerServiceResponse.describe_service_deployments = _describe_service_deployments
        EC2ContainerServiceResponse.describe_service_revisions = _describe_service_revisions
        original = IAMRequest.check_action_permitted

        def check_action_permitted(self, resource: str) -> None:
            if resource == "*":
                try:
                    data = json.loads(self._body or b"{}")
                except ValueError:
                    data = {}
                resource = (
                    _resource_of(self._action, data if isinstance(data, dict) else {}, self._region, self.account_id)
                    or resource
                )
            return original(self, resource)

        IAMRequest.check_action_permitted = check_action_permitted
        from moto.iam.access_control import S3IAMRequest

        s3_original = S3IAMRequest.check_action_permitted

        def s3_check_action_permitted(self, resource: str) -> None:
            self._action = s3_iam_action(self._action)
            return s3_original(self, resource)

        S3IAMRequest.check_action_permitted = s3_check_action_permitted
        # moto authorizes S3 bucket reads it has no name for as s3:ListBucket; AWS checks the
        # action of the subresource (?encryption, ?publicAccessBlock).
        from moto.s3.responses import ACTION_MAP

        ACTION_MAP["BUCKET"]["GET"].update(
            encryption="GetEncryptionConfiguration", publicAccessBlock="GetBucketPublicAccessBlock"
        )
        _install_cloudwatch_iam()
        from . import deployment_alarms  # after the service-deployment handlers above: it wraps them

        deployment_alarms.install(DEPLOYMENTS)
        _installed = True
    _install_error_hook()


# --- CloudWatch: the IAM action name and the cloudwatch:namespace condition -------------------
# moto 5.2.5 and 5.2.6 (moto/iam/access_control.py) build the action from the SigV4 signing
# name, so a CloudWatch call is checked as `monitoring:PutMetricData`; AWS checks
# `cloudwatch:PutMetricData` (Service Authorization Reference, "Actions defined by Amazon
# CloudWatch": https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
# moto also puts no `cloudwatch:namespace` into the condition context (moto/iam/utils.py), so a
# namespace condition passes vacuously; AWS evaluates it against the request's Namespace
# ("Using condition keys to limit access to CloudWatch namespaces":
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html).
# Here every CloudWatch request is decided by AWS's identity-policy evaluation logic
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
# an explicit Deny wins, else an Allow whose action, resource and conditions all match, else
# implicitly denied.
CLOUDWATCH_SIGNING_NAME = "monitoring"  # what moto's action carries
CLOUDWATCH_ACTION_PREFIX = "cloudwatch"  # what AWS's policies name
CLOUDWATCH_CONDITION_KEYS = {"PutMetricData": {"cloudwatch:namespace": "Namespace"}}  # key -> request parameter
STRING_OPERATORS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")


def _glob(pattern: str, value: str, case: bool = True) -> bool:
    regex = fnmatch.translate(pattern.replace("[", "[[]"))  # IAM wildcards are * and ? only
    return re.match(regex, value, 0 if case else re.IGNORECASE) is not None


def _condition_holds(operator: str, key: str, expected, context: dict[str, str]) -> bool:
    base, if_exists = (operator[: -len("IfExists")], True) if operator.endswith("IfExists") else (operator, False)
    if base not in STRING_OPERATORS:
        raise NotImplementedError(f"condition operator {operator} on {key}: not served by the fidelity room yet")
    values = expected if isinstance(expected, list) else [expected]
    if key not in context:  # a missing key matches only the negated operators and ...IfExists
        return if_exists or base.startswith("StringNot")
    actual = context[key]
    match = any(actual == v if base.endswith("Equals") else _glob(v, actual) for v in values)
    return not match if base.startswith("StringNot") else match


def _statement_applies(st: dict, action: str, resource: str, context: dict[str, str]) -> bool:
    def listed(element: str) -> list[str]:
        value = st.get(element, [])
        return value if isinstance(value, list) else [value]

    if "NotAction" in st:
        acts = not any(_glob(a, action, case=False) for a in listed("NotAction"))
    else:
        acts = any(_glob(a, action, case=False) for a in listed("Action"))
    if not acts or not any(_glob(r, resource) for r in listed("Resource") or ["*"]):
        return False
    return all(
        _condition_holds(op, key, expected, context)
        for op, keys in (st.get("Condition") or {}).items()
        for key, expected in keys.items()
    )


def cloudwatch_decision(policies: list[dict], action: str, context: dict[str, str], resource: str = "*") -> bool:
    """AWS's identity-policy evaluation for one CloudWatch request: True when allowed."""
    statements = [st for p in policies for st in (p["Statement"] if isinstance(p["Statement"], list) else [p["Statement"]])]
    applying = [st for st in statements if _statement_applies(st, action, resource, context)]
    if any(st.get("Effect") == "Deny" for st in applying):
        return False
    return any(st.get("Effect") == "Allow" for st in applying)


def _install_cloudwatch_iam() -> None:
    """CloudWatch requests are authorized as `cloudwatch:<Operation>` with the condition keys
    AWS documents for them (called from install())."""
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.iam.access_control import IAMPolicy, IAMRequest

    class CloudWatchIAMRequest(IAMRequest):
        context: dict[str, str] = {}

        def check_action_permitted(self, resource: str) -> None:
            operation = self._action.split(":", 1)[1]
            action = f"{CLOUDWATCH_ACTION_PREFIX}:{operation}"
            policies = [IAMPolicy(p)._policy_json for p in self._access_key.collect_policies()]
            if not cloudwatch_decision(policies, action, self.context, resource):
                self._action = action  # the denial names the action AWS names
                self._raise_access_denied()

    def authorize(self, resource: str = "*") -> None:
        operation = self._get_action()
        context = {
            key: str(self._get_param(param))
            for key, param in CLOUDWATCH_CONDITION_KEYS.get(operation, {}).items()
            if self._get_param(param) is not None
        }

        def request(**kw):
            made = CloudWatchIAMRequest(**kw)
            made.context = context
            return made

        self._authenticate_and_authorize_action(request, resource)

    CloudWatchResponse._authenticate_and_authorize_normal_action = authorize


# --- errors AWS serves and moto does not -----------------------------------------------------
@dataclass
class ServedError:
    service: str  # botocore service name: ecs, elbv2, s3, ...
    operation: str  # e.g. DescribeTargetGroups
    code: str
    message: str
    status: int = 400
    times: int | None = None  # None: every call while active
    served: int = 0


_errors: list[ServedError] = []


@contextlib.contextmanager
def serve_error(service: str, operation: str, code: str, message: str, status: int = 400, times: int | None = None):
    """While active, `service`.`operation` answers `code` as AWS would (then normally)."""
    _install_error_hook()
    err = ServedError(service, operation, code, message, status, times)
    _errors.append(err)
    try:
        yield err
    finally:
        _errors.remove(err)


def _body(err: ServedError, protocol: str) -> tuple[str, dict]:
    if protocol in ("json", "rest-json"):
        return json.dumps({"__type": err.code, "message": err.message}), {
            "status": err.status,
            "x-amzn-ErrorType": err.code,
            "content-type": "application/x-amz-json-1.1",
        }
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{err.code}</Code><Message>{err.message}</Message></Error>"
        "<RequestId>5e4e1e0c-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
    )
    return xml, {"status": err.status, "content-type": "text/xml"}


_hooked = False


def _json_denied(body, headers: dict):
    """moto answers a denied JSON-protocol call with its XML error; AWS with JSON
    (`{"__type": "AccessDeniedException", "message": "User: … is not authorized to perform: …"}`)."""
    text = body.decode() if isinstance(body, bytes) else str(body or "")
    if not text.lstrip().startswith("<"):
        return body
    import re

    message = re.search(r"<Message>(.*?)</Message>", text, re.DOTALL)
    headers["x-amzn-ErrorType"] = "AccessDeniedException"
    headers["content-type"] = "application/x-amz-json-1.1"
    return json.dumps({"__type": "AccessDeniedException", "message": message.group(1) if message else "Access denied"})


def _install_error_hook() -> None:
    global _hooked
    with _lock:
        if _hooked:
            return
        from moto.core.responses import BaseResponse

        original = BaseResponse.call_action

        def call_action(self):
            action = self._get_action()
            for err in _errors:
                model = _models.get_service_model(err.service)
                ours = self.service_name in (
                    err.service,
                    model.metadata.get("endpointPrefix"),
                    model.metadata.get("signingName"),
                )
                if err.operation == action and ours and (err.times is None or err.served < err.times):
                    err.served += 1
                    body, headers = _body(err, model.metadata["protocol"])
                    return err.status, headers, body
            status, headers, body = original(self)
            if str(status) == "403" and self.headers.get("X-Amz-Target"):  # a JSON-protocol call
                body = _json_denied(body, headers)
            return status, headers, body

        BaseResponse.call_action = call_action
        _hooked = True
