"""STS with real boto3 clients: GetCallerIdentity for root, users and role sessions; AssumeRole allowed
and refused by trust policies; durations, session names, session policies; temporary credentials that
sign requests and, once expired, are refused with each service's ExpiredToken error."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, raw_request, unique
from tests.functional.test_iam import client_as, error_of, trust

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client("iam")


@pytest.fixture(scope="module")
def sts(server: Server) -> Any:
    return server.client("sts")


def new_user(iam: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    user = iam.create_user(UserName=unique("user"))["User"]
    return user, iam.create_access_key(UserName=user["UserName"])["AccessKey"]


def new_role(iam: Any, principal: dict[str, Any] | str, **extra: Any) -> dict[str, Any]:
    role: dict[str, Any] = iam.create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=trust(principal), **extra
    )["Role"]
    return role


def test_caller_identity_of_root(sts: Any) -> None:
    identity = sts.get_caller_identity()
    assert (identity["UserId"], identity["Account"], identity["Arn"]) == (
        ACCOUNT,
        ACCOUNT,
        f"arn:aws:iam::{ACCOUNT}:root",
    )


def test_assume_role_issues_working_credentials(server: Server, iam: Any) -> None:
    user, key = new_user(iam)
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": user["Arn"]},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    role = iam.create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(document), MaxSessionDuration=7200
    )["Role"]
    started = time.time()
    assumed = client_as(server, "sts", key).assume_role(
        RoleArn=role["Arn"], RoleSessionName="build@ci", DurationSeconds=5400, ExternalId="x-1",
        Tags=[{"Key": "project", "Value": "p"}],
    )  # fmt: skip
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    assert len(credentials["SecretAccessKey"]) == 40 and len(credentials["SessionToken"]) > 100
    assert abs(credentials["Expiration"].timestamp() - (started + 5400)) < 5
    assert assumed["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:build@ci",
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/build@ci",
    }
    assert 0 < assumed["PackedPolicySize"] <= 100
    session = client_as(server, "sts", credentials)
    identity = session.get_caller_identity()
    assert identity["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert identity["UserId"] == f"{role['RoleId']}:build@ci"

    # The session token must be sent, and must be this session's.
    bare = {k: credentials[k] for k in ("AccessKeyId", "SecretAccessKey")}
    with pytest.raises(ClientError) as exc:
        client_as(server, "sts", bare).get_caller_identity()
    assert error_of(exc) == (
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )

    # Role chaining: at most one hour.
    role_b = new_role(iam, {"AWS": role["Arn"]})
    with pytest.raises(ClientError) as exc:
        session.assume_role(RoleArn=role_b["Arn"], RoleSessionName="chain", DurationSeconds=3601)
    assert error_of(exc)[:2] == (400, "ValidationError")
    chained = session.assume_role(RoleArn=role_b["Arn"], RoleSessionName="chain")
    assert chained["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{role_b['RoleName']}/chain")


def test_assume_role_refused_when_the_trust_policy_does_not_allow_the_caller(
    server: Server, iam: Any
) -> None:
    user, key = new_user(iam)
    other, _ = new_user(iam)
    role = new_role(iam, {"AWS": other["Arn"]})
    with pytest.raises(ClientError) as exc:
        client_as(server, "sts", key).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    assert error_of(exc) == (
        403,
        "AccessDenied",
        f"User: {user['Arn']} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']}",
    )
    service_only = new_role(iam, {"Service": "lambda.amazonaws.com"})
    with pytest.raises(ClientError) as exc:
        client_as(server, "sts", key).assume_role(RoleArn=service_only["Arn"], RoleSessionName="s1")
    assert error_of(exc)[:2] == (403, "AccessDenied")
    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique('missing')}"
    with pytest.raises(ClientError) as exc:
        client_as(server, "sts", key).assume_role(RoleArn=missing, RoleSessionName="s1")
    assert error_of(exc)[:2] == (403, "AccessDenied")


def test_trusting_the_account_delegates_to_identity_policies(server: Server, iam: Any) -> None:
    user, key = new_user(iam)
    role = new_role(iam, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    caller = client_as(server, "sts", key)
    with pytest.raises(ClientError) as exc:
        caller.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    assert error_of(exc)[:2] == (403, "AccessDenied")
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Arn"]}],
    }
    iam.put_user_policy(UserName=user["UserName"], PolicyName="assume", PolicyDocument=json.dumps(allow))
    assert caller.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["AssumedRoleUser"]["Arn"].endswith(
        "/s1"
    )


def test_session_tags_need_tag_session(server: Server, iam: Any) -> None:
    user, key = new_user(iam)
    role = new_role(iam, {"AWS": user["Arn"]})
    with pytest.raises(ClientError) as exc:
        client_as(server, "sts", key).assume_role(
            RoleArn=role["Arn"], RoleSessionName="s1", Tags=[{"Key": "team", "Value": "blue"}]
        )
    assert error_of(exc) == (
        403,
        "AccessDenied",
        f"User: {user['Arn']} is not authorized to perform: sts:TagSession on resource: {role['Arn']}",
    )


def test_external_id_condition(server: Server, iam: Any) -> None:
    user, key = new_user(iam)
    document = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "secret-42"}},
        }],
    }  # fmt: skip
    role = iam.create_role(RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(document))["Role"]
    caller = client_as(server, "sts", key)
    with pytest.raises(ClientError) as exc:
        caller.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", ExternalId="wrong")
    assert error_of(exc)[:2] == (403, "AccessDenied")
    caller.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", ExternalId="secret-42")


def test_assume_role_input_rules(server: Server, iam: Any, sts: Any) -> None:
    user, key = new_user(iam)
    role = new_role(iam, {"AWS": user["Arn"]})
    caller = client_as(server, "sts", key)
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="root")
    assert error_of(exc) == (403, "AccessDenied", "Roles may not be assumed by root accounts.")
    with pytest.raises(ClientError) as exc:
        caller.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    assert error_of(exc) == (
        400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )  # fmt: skip
    with pytest.raises(ClientError) as exc:
        unchecked = client_as(server, "sts", key, parameter_validation=False)
        unchecked.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=899)
    assert error_of(exc)[:2] == (400, "ValidationError")
    with pytest.raises(ClientError) as exc:
        caller.assume_role(RoleArn=role["Arn"], RoleSessionName="bad name")
    status, code, message = error_of(exc)
    assert (status, code) == (400, "ValidationError") and "roleSessionName" in message
    with pytest.raises(ClientError) as exc:
        caller.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Policy='{"Version": "2012-10-17"}')
    assert error_of(exc) == (400, "MalformedPolicyDocument", "Syntax errors in policy.")


def test_session_policies_are_kept_for_the_session(server: Server, iam: Any) -> None:
    user, key = new_user(iam)
    role = new_role(iam, {"AWS": user["Arn"]})
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    assumed = client_as(server, "sts", key).assume_role(
        RoleArn=role["Arn"],
        RoleSessionName="scoped",
        Policy=json.dumps(policy),
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}],
    )
    assert assumed["PackedPolicySize"] > 0


def test_get_session_token(server: Server, iam: Any) -> None:
    user, key = new_user(iam)
    token = client_as(server, "sts", key).get_session_token(DurationSeconds=900)["Credentials"]
    assert token["AccessKeyId"].startswith("ASIA")
    assert client_as(server, "sts", token).get_caller_identity()["Arn"] == user["Arn"]


def test_expired_credentials_are_refused(server_factory: Any) -> None:
    server = server_factory(LAMBDABOX_TEST_HOOKS="1")
    iam = server.client("iam")
    user = iam.create_user(UserName="expiring")["User"]
    key = iam.create_access_key(UserName="expiring")["AccessKey"]
    role = iam.create_role(RoleName="short", AssumeRolePolicyDocument=trust({"AWS": user["Arn"]}))["Role"]
    credentials = client_as(server, "sts", key).assume_role(
        RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=900
    )["Credentials"]
    session = client_as(server, "sts", credentials)
    assert session.get_caller_identity()["Arn"].endswith("assumed-role/short/s1")

    # Move the platform clock past the expiration (the signatures themselves stay current).
    moved = raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={time.time() + 1000}")
    assert moved.status == 200
    with pytest.raises(ClientError) as exc:
        session.get_caller_identity()
    assert error_of(exc) == (403, "ExpiredToken", "The security token included in the request is expired")
    with pytest.raises(ClientError) as exc:
        client_as(server, "lambda", credentials).list_functions()
    assert error_of(exc) == (
        403,
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )
    s3 = client_as(server, "s3", credentials)
    with pytest.raises(ClientError) as exc:
        s3.list_buckets()
    assert error_of(exc) == (400, "ExpiredToken", "The provided token has expired.")
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "any", "Key": "k"})
    assert "AWSAccessKeyId=" in presigned  # Signature Version 2 refuses it too
    answer = raw_request("GET", presigned)
    assert answer.status == 400 and b"<Code>ExpiredToken</Code>" in answer.data
    # The user's long-term key is unaffected.
    assert client_as(server, "sts", key).get_caller_identity()["Arn"] == user["Arn"]


def test_global_endpoints_accept_us_east_1_in_another_region(server_factory: Any) -> None:
    server = server_factory(LAMBDABOX_REGION="eu-west-1")
    # The clients sign with us-east-1 (IAM's region, and the global STS endpoint's).
    assert server.client("sts").get_caller_identity()["Account"] == ACCOUNT
    assert server.client("sts").get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")["Account"] == ACCOUNT
    assert server.client("iam").list_users()["Users"] == []
    with pytest.raises(ClientError) as exc:
        server.client("lambda").list_functions()
    assert error_of(exc)[:2] == (403, "InvalidSignatureException")
