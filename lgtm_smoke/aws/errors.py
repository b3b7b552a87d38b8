"""Every AWS failure as one line a person acts on: which call, which IAM action, which role,
and what to do. Credential problems (none, expired, rejected) are `CredentialsProblem`s: the
fetch stops at once and every AWS check is blocked by `aws.credentials` with that one line.
"""

from __future__ import annotations

import re

NO_CREDENTIALS = "no AWS credentials: configure the standard chain (env, profile, OIDC role) or pass --skip-aws"
NO_REGION = "no AWS region: pass --region, set AWS_REGION, or set aws_region in common.tfvars"
EXPIRED_CODES = {"RequestExpired", "ExpiredToken", "ExpiredTokenException", "InvalidToken", "TokenRefreshRequired"}
REJECTED_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "InvalidSignatureException",
    "IncompleteSignature",
}
THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "PriorRequestNotComplete",
}
SMOKE_POLICY = "infra/terraform/modules/iam/smoke.tf"
# IAM action prefix of each client (the signing name) and the S3 operations whose IAM action
# is not "s3:<operation>".
IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elasticloadbalancingv2": "elasticloadbalancing"}
S3_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "HeadBucket": "s3:ListBucket",
}


class CredentialsProblem(Exception):
    """Nothing can be fetched with these credentials; the message is the one line."""


def iam_action(service: str, operation: str) -> str:
    if service == "s3":
        return S3_ACTIONS.get(operation, f"s3:{operation}")
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def role_of(principal: str) -> str:
    """`arn:aws:sts::1:assumed-role/lgtm-prod-smoke/gh-123` -> `role lgtm-prod-smoke`."""
    m = re.search(r":assumed-role/([^/]+)/", principal or "")
    if m:
        return f"role {m.group(1)}"
    m = re.search(r":(user|role)/(.+)$", principal or "")
    return f"{m.group(1)} {m.group(2).rsplit('/', 1)[-1]}" if m else (principal or "the caller")


def code_of(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def first_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def expired(code: str) -> str:
    return (
        f"AWS credentials expired ({code}): get fresh ones (re-run `aws sso login`, or let the workflow "
        "re-assume the smoke role through OIDC) and run again"
    )


def credentials_problem(exc: BaseException) -> str | None:
    """The one line when `exc` means the credentials are unusable, else None."""
    from botocore import exceptions as bx

    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return NO_CREDENTIALS
    if isinstance(exc, bx.TokenRetrievalError) or type(exc).__name__ == "TokenRetrievalError":
        return expired("TokenRetrievalError")
    if isinstance(exc, bx.CredentialRetrievalError):
        return f"AWS credentials could not be loaded ({first_line(exc)}): fix the profile or role, or pass --skip-aws"
    if isinstance(exc, bx.NoRegionError):
        return NO_REGION
    code = code_of(exc)
    if code in EXPIRED_CODES:
        return expired(code)
    if code in REJECTED_CODES:
        return f"AWS credentials rejected ({code}): they belong to no valid identity here; refresh them or pass --skip-aws"
    return None


def describe_error(exc: BaseException, what: str, principal: str = "") -> str:
    """One line for any AWS failure while `what` (e.g. "listing ECS services of lgtm-prod")."""
    from botocore import exceptions as bx

    problem = credentials_problem(exc)
    if problem:
        return problem
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return f"cannot reach AWS while {what} ({first_line(exc)}): check --region, the network, or --aws-endpoint-url"
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code, msg = err.get("Code", "?"), first_line(err.get("Message", "") or "")
        service = getattr(exc, "service_name", "") or exc.response.get("ResponseMetadata", {}).get("ServiceName", "")
        op = getattr(exc, "operation_name", "") or ""
        if code in THROTTLE_CODES:
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            return (
                f"throttled by AWS while {what} ({code}: {msg}; gave up after {attempts + 1} attempts with "
                "adaptive retries): the account's API rate is shared with the console and Terraform; run again"
            )
        if "AccessDenied" in code or code in ("UnauthorizedOperation", "Forbidden", "AuthorizationError"):
            m = re.search(r"not authorized to perform:? ([\w-]+:\w+)", msg)
            action = m.group(1) if m else iam_action(service, op) if op else "the call"
            who = re.search(r"User: (\S+)", msg)
            role = role_of(who.group(1) if who else principal)
            return (
                f"access denied: {role} may not call {action} ({code}) while {what}: "
                f"add {action} to the smoke role ({SMOKE_POLICY})"
            )
        return f"{what}: {code}: {msg}"
    return f"{what}: {type(exc).__name__}: {first_line(exc)}"


# --- what the checks read from botocore's models ------------------------------------------
MIN_BOTOCORE = "1.40.54"
# (service, shape, member) or (service, operation): what a check reads and what it means.
MODEL_NEEDS = (
    ("elbv2", "Rule", "Transforms", "the url-rewrite check (ALB listener-rule Transforms)"),
    ("ecs", "ListServiceDeployments", None, "the rolled-back deploy check (ECS service deployments)"),
    ("ecs", "DescribeServiceDeployments", None, "the rolled-back deploy check (ECS service deployments)"),
    ("ecs", "DescribeServiceRevisions", None, "the rolled-back deploy check (the failed revision's image)"),
)


def model_gap(service_model, name: str, member: str | None) -> bool:
    """True when the loaded botocore model lacks operation `name` or shape `name`.`member`."""
    if member is None:
        return name not in service_model.operation_names
    try:
        return member not in service_model.shape_for(name).members
    except Exception:  # noqa: BLE001 - an unknown shape is a gap too
        return True


def too_old(service: str, what: str, version: str) -> str:
    return (
        f"botocore {version} too old: its {service} model lacks what {what} reads, so the API's answer "
        f"would be dropped; pip install 'botocore>={MIN_BOTOCORE}'"
    )
