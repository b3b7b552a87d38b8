"""The reference account authorizes S3 calls under IAM's action names, as AWS does, whatever
name the installed moto gives them (refstack/lgtm_refstack/aws/fidelity.py S3_IAM_ACTIONS).

moto 5.2.6 checks ListObjectsV2 as `s3:ListObjectsV2`, an action IAM does not have: a role
granted `s3:ListBucket` (what AWS checks) was denied, and a policy naming the operation was
allowed. These tests hold the account to AWS's table with a minimal role per case, so a moto
that drifts again is caught here, not as a red S3 check of the smoke role."""

from __future__ import annotations

import json
import uuid

import botocore.exceptions
import botocore.session
import pytest
from lgtm_refstack.aws import fidelity
from lgtm_refstack.aws import seed as seeding

# operation -> (the IAM action AWS authorizes it as, the call's arguments besides the bucket)
CALLS = {
    "list_objects_v2": ("s3:ListBucket", {"Delimiter": "/"}),
    "get_bucket_encryption": ("s3:GetEncryptionConfiguration", {}),
    "get_public_access_block": ("s3:GetBucketPublicAccessBlock", {}),
}


def test_every_mapped_name_is_an_s3_operation_of_botocores_model():
    operations = set(botocore.session.get_session().get_service_model("s3").operation_names)
    assert set(fidelity.S3_IAM_ACTIONS) <= operations, set(fidelity.S3_IAM_ACTIONS) - operations


def _client_with(stack, actions: list[str]):
    """An S3 client of a fresh role allowed exactly `actions` on every resource."""
    iam, name = stack.client("iam"), f"probe-{uuid.uuid4().hex[:8]}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(seeding.ADMIN_TRUST))
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_role_policy(RoleName=name, PolicyName="probe", PolicyDocument=json.dumps(policy))
    creds = stack.client("sts").assume_role(RoleArn=f"arn:aws:iam::{seeding.ACCOUNT}:role/{name}", RoleSessionName="probe")
    c = creds["Credentials"]
    return stack.client(
        "s3",
        {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
         "aws_session_token": c["SessionToken"]},
    )


def _denied(client, operation: str, bucket: str) -> bool:
    try:
        getattr(client, operation)(Bucket=bucket, **CALLS[operation][1])
    except botocore.exceptions.ClientError as err:
        return err.response["Error"]["Code"] == "AccessDenied"
    return False


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_iams_action_allows_the_operation(operation, stack):
    bucket = stack.tf["data_bucket"]
    assert not _denied(_client_with(stack, [CALLS[operation][0]]), operation, bucket)


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_the_operations_own_name_allows_nothing(operation, stack):
    """`s3:ListObjectsV2` is no IAM action: AWS denies a role that names only it."""
    bucket = stack.tf["data_bucket"]
    own_name = "s3:" + stack.client("s3").meta.method_to_api_mapping[operation]
    assert _denied(_client_with(stack, [own_name]), operation, bucket)
