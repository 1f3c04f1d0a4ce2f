"""IAM over the query protocol with real boto3 and AWS CLI clients: users and access keys (which then sign
requests), groups, roles, inline and managed policies, tags, and IAM's errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server, aws_error, unique

ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def trust(principal: dict[str, Any] | str) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


LAMBDA_TRUST = trust({"Service": "lambda.amazonaws.com"})


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client("iam")


def client_as(server: Server, service: str, key: dict[str, Any], **config: Any) -> Any:
    client = boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        aws_session_token=key.get("SessionToken"),
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )
    server.clients.append(client)
    return client


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    code, message, status = aws_error(excinfo)
    return status, code, message


# -- users ---------------------------------------------------------------------------------------------------
def test_user_lifecycle(iam: Any) -> None:
    name = unique("user")
    created = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "team", "Value": "blue"}])["User"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:user/team/{name}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert iam.get_user(UserName=name)["User"]["UserId"] == created["UserId"]
    listed = iam.list_users(PathPrefix="/team/")["Users"]
    assert [u["UserName"] for u in listed] == [name]
    assert "Tags" not in listed[0]

    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=name.upper())  # names are unique without regard to case
    assert error_of(exc) == (409, "EntityAlreadyExists", f"User with name {name.upper()} already exists.")

    iam.tag_user(UserName=name, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "red"}])
    iam.untag_user(UserName=name, TagKeys=["env"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "team", "Value": "red"}]

    renamed = unique("renamed")
    iam.update_user(UserName=name, NewUserName=renamed, NewPath="/other/")
    assert iam.get_user(UserName=renamed)["User"]["Arn"].endswith(f":user/other/{renamed}")
    iam.delete_user(UserName=renamed)
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=renamed)
    assert error_of(exc) == (404, "NoSuchEntity", f"The user with name {renamed} cannot be found.")


def test_errors_are_query_protocol_documents(server: Server, iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="bad name!")
    status, code, message = error_of(exc)
    assert (status, code) == (400, "ValidationError")
    assert message.startswith(
        "1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy"
    )
    assert exc.value.response["Error"]["Type"] == "Sender"

    unchecked = server.client("iam", parameter_validation=False)
    seen: list[bytes] = []
    unchecked.meta.events.register(
        "before-parse.iam.*", lambda response_dict, **_: seen.append(response_dict["body"])
    )
    with pytest.raises(ClientError) as exc:
        unchecked.list_users(MaxItems=0)
    assert error_of(exc)[:2] == (400, "ValidationError")
    document = seen[0].decode()
    assert (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        in document
    )
    assert "<Code>ValidationError</Code>" in document and "</Error><RequestId>" in document


def test_delete_user_conflicts(iam: Any) -> None:
    name = unique("user")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc) == (409, "DeleteConflict", "Cannot delete entity, must delete access keys first.")
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3))
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc) == (409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
    iam.delete_user_policy(UserName=name, PolicyName="s3")
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc)[1] == "DeleteConflict"
    iam.detach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.delete_user(UserName=name)


# -- access keys ----------------------------------------------------------------------------------------------
def test_access_key_signs_requests_until_deactivated_or_deleted(server: Server, iam: Any) -> None:
    name = unique("signer")
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active"
    sts = client_as(server, "sts", key)
    assert sts.get_caller_identity()["Arn"] == user["Arn"]
    assert sts.get_caller_identity()["UserId"] == user["UserId"]
    self_service = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::*:user/${aws:username}"}
        ],
    }
    iam.put_user_policy(UserName=name, PolicyName="self", PolicyDocument=json.dumps(self_service))
    own = client_as(server, "iam", key)
    assert own.get_user()["User"]["UserName"] == name  # GetUser without a name: the caller
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert used["UserName"] == name and "LastUsedDate" in used["AccessKeyLastUsed"]

    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    expected = {
        "sts": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
        "iam": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
        "lambda": (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
    }
    calls = {
        "sts": lambda c: c.get_caller_identity(),
        "iam": lambda c: c.list_users(),
        "lambda": lambda c: c.list_functions(),
    }
    for service, call in calls.items():
        with pytest.raises(ClientError) as exc:
            call(client_as(server, service, key))
        assert error_of(exc) == expected[service], service
    with pytest.raises(ClientError) as exc:
        client_as(server, "s3", key).list_buckets()
    assert error_of(exc)[:2] == (403, "InvalidAccessKeyId")

    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert client_as(server, "sts", key).get_caller_identity()["Arn"] == user["Arn"]
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as exc:
        client_as(server, "sts", key).get_caller_identity()
    assert error_of(exc)[1] == "InvalidClientTokenId"
    iam.delete_user_policy(UserName=name, PolicyName="self")
    iam.delete_user(UserName=name)


def test_access_key_quota_and_unknown_keys(iam: Any) -> None:
    name = unique("keys")
    iam.create_user(UserName=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName=name)
    assert error_of(exc) == (409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
    with pytest.raises(ClientError) as exc:
        iam.update_access_key(UserName=name, AccessKeyId="AKIAAAAAAAAAAAAAAAAA", Status="Inactive")
    assert error_of(exc) == (
        404,
        "NoSuchEntity",
        "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found.",
    )
    with pytest.raises(ClientError) as exc:
        iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Paused")
    assert error_of(exc)[1] == "ValidationError"
    with pytest.raises(ClientError) as exc:
        iam.list_access_keys()  # root has no user name to default to
    assert error_of(exc)[1] == "ValidationError"


# -- groups ----------------------------------------------------------------------------------------------------
def test_groups_and_membership(iam: Any) -> None:
    group, user = unique("group"), unique("member")
    created = iam.create_group(GroupName=group)["Group"]
    assert created["GroupId"].startswith("AGPA") and created["Arn"].endswith(f":group/{group}")
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)  # idempotent
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == [user] and got["Group"]["GroupName"] == group
    with pytest.raises(ClientError) as exc:
        iam.delete_group(GroupName=group)
    assert error_of(exc) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
    )
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error_of(exc)[1] == "DeleteConflict"
    iam.put_group_policy(GroupName=group, PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3))
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["s3"]
    iam.remove_user_from_group(GroupName=group, UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.remove_user_from_group(GroupName=group, UserName=user)
    assert error_of(exc)[1] == "NoSuchEntity"
    iam.delete_group_policy(GroupName=group, PolicyName="s3")
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.get_group(GroupName=group)
    assert error_of(exc) == (404, "NoSuchEntity", f"The group with name {group} cannot be found.")


# -- roles ------------------------------------------------------------------------------------------------------
def test_role_lifecycle(server: Server, iam: Any) -> None:
    name = unique("role")
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=LAMBDA_TRUST,
        Description="runs things",
        MaxSessionDuration=7200,
    )["Role"]
    assert role["RoleId"].startswith("AROA") and role["Arn"] == f"arn:aws:iam::000000000000:role/{name}"
    assert role["AssumeRolePolicyDocument"] == json.loads(
        LAMBDA_TRUST
    )  # botocore decodes the URL-encoded JSON
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("runs things", 7200)
    assert name in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    iam.update_role(RoleName=name, Description="new", MaxSessionDuration=3600)
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "new"
    iam.update_assume_role_policy(
        RoleName=name, PolicyDocument=trust({"AWS": "arn:aws:iam::000000000000:root"})
    )
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::000000000000:root"
    }
    iam.tag_role(RoleName=name, Tags=[{"Key": "k", "Value": "v"}])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as exc:
        server.client("iam", parameter_validation=False).update_role(RoleName=name, MaxSessionDuration=60)
    assert error_of(exc)[1] == "ValidationError"
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)
    assert error_of(exc) == (409, "EntityAlreadyExists", f"Role with name {name} already exists.")
    iam.delete_role(RoleName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=name)
    assert error_of(exc) == (404, "NoSuchEntity", f"The role with name {name} cannot be found.")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "This policy contains invalid Json"),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
         "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a "
         "statement with no principals!"),
        (json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "s3:GetObject"}]}),
         "AssumeRole policy may only specify STS AssumeRole actions."),
        (json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
             "Resource": "*"}]}), "Has prohibited field Resource"),
        (trust({"AWS": "arn:aws:iam::000000000000:user/nobody-at-all"}),
         'Invalid principal in policy: "AWS":"arn:aws:iam::000000000000:user/nobody-at-all"'),
    ],
)  # fmt: skip
def test_malformed_trust_policies(iam: Any, document: str, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=unique("role"), AssumeRolePolicyDocument=document)
    assert error_of(exc) == (400, "MalformedPolicyDocument", message)


# -- inline policies --------------------------------------------------------------------------------------------
def test_inline_role_policies(server: Server, iam: Any) -> None:
    name = unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)
    text = json.dumps(ALLOW_S3, indent=2)
    iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=text)
    got = iam.get_role_policy(RoleName=name, PolicyName="s3")
    assert (got["RoleName"], got["PolicyName"], got["PolicyDocument"]) == (name, "s3", ALLOW_S3)
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["s3"]
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName=name)
    assert error_of(exc) == (409, "DeleteConflict", "Cannot delete entity, must delete policies first.")

    # On the wire the document is URL-encoded, exactly as sent (whitespace included).
    raw = server.client("iam")
    seen: list[bytes] = []
    raw.meta.events.register(
        "before-parse.iam.GetRolePolicy", lambda response_dict, **_: seen.append(response_dict["body"])
    )
    raw.get_role_policy(RoleName=name, PolicyName="s3")
    encoded = seen[0].split(b"<PolicyDocument>")[1].split(b"</PolicyDocument>")[0].decode()
    assert encoded.startswith("%7B%0A%20%20%22Version%22") and unquote(encoded) == text

    iam.delete_role_policy(RoleName=name, PolicyName="s3")
    with pytest.raises(ClientError) as exc:
        iam.get_role_policy(RoleName=name, PolicyName="s3")
    assert error_of(exc) == (404, "NoSuchEntity", "The role policy with name s3 cannot be found.")
    iam.delete_role(RoleName=name)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": "Allow", "Resource": "*"}, "Policy statement must contain actions."),
        ({"Effect": "Allow", "Action": "s3:GetObject"}, "Policy statement must contain resources."),
        ({"Effect": "Allow", "Action": "GetObject", "Resource": "*"},
         "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"},
         "Policy document should not specify a principal."),
        ({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}, "Syntax errors in policy."),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}, 'Resource bucket must be in ARN format or "*".'),
    ],
)  # fmt: skip
def test_malformed_identity_policies(iam: Any, statement: dict[str, Any], message: str) -> None:
    name = unique("user")
    iam.create_user(UserName=name)
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document)
    assert error_of(exc) == (400, "MalformedPolicyDocument", message)
    iam.delete_user(UserName=name)


def test_inline_policy_size_quota(iam: Any) -> None:
    name = unique("user")
    iam.create_user(UserName=name)
    actions = [f"s3:GetObject{i:04d}" for i in range(120)]
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    )
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=name, PolicyName="big", PolicyDocument=document)
    assert error_of(exc) == (
        409,
        "LimitExceeded",
        f"Maximum policy size of 2048 bytes exceeded for user {name}",
    )
    iam.delete_user(UserName=name)


# -- managed policies ------------------------------------------------------------------------------------------
def test_managed_policy_versions(iam: Any) -> None:
    name = unique("policy")
    policy = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(ALLOW_S3), Description="d")[
        "Policy"
    ]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::000000000000:policy/{name}" and policy["PolicyId"].startswith("ANPA")
    assert (policy["DefaultVersionId"], policy["AttachmentCount"]) == ("v1", 0)
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(ALLOW_S3))
    assert error_of(exc)[:2] == (409, "EntityAlreadyExists")
    for number in range(2, 6):
        version = iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(ALLOW_S3), SetAsDefault=number == 3
        )
        assert version["PolicyVersion"]["VersionId"] == f"v{number}"
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ALLOW_S3))
    assert error_of(exc)[:2] == (409, "LimitExceeded")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions][:3] == [
        ("v5", False),
        ("v4", False),
        ("v3", True),
    ]
    with pytest.raises(ClientError) as exc:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error_of(exc) == (409, "DeleteConflict", "Cannot delete the default version of a policy.")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v5")["PolicyVersion"]
    assert got["Document"] == ALLOW_S3 and got["IsDefaultVersion"] is True
    for version_id in ("v1", "v2", "v3", "v4"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version_id)
    with pytest.raises(ClientError) as exc:
        iam.get_policy_version(PolicyArn=arn, VersionId="v1")
    assert error_of(exc)[:2] == (404, "NoSuchEntity")
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=arn)
    assert error_of(exc) == (404, "NoSuchEntity", f"Policy {arn} does not exist or is not attachable.")


def test_attachments(iam: Any) -> None:
    role, user, group = unique("role"), unique("user"), unique("group")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    arn = iam.create_policy(PolicyName=unique("policy"), PolicyDocument=json.dumps(ALLOW_S3))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn, BASIC_EXECUTION]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    assert all(p["Arn"].startswith("arn:aws:iam::aws:") for p in iam.list_policies(Scope="AWS")["Policies"])
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(exc) == (409, "DeleteConflict", "Cannot delete a policy attached to entities.")
    with pytest.raises(ClientError) as exc:
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    assert error_of(exc) == (
        404, "NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable."
    )  # fmt: skip
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    assert error_of(exc) == (404, "NoSuchEntity", f"Policy {arn} was not found.")
    iam.detach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    iam.delete_role(RoleName=role)


def test_aws_managed_policies_have_their_documents(iam: Any) -> None:
    policy = iam.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]
    assert (policy["Path"], policy["PolicyName"]) == ("/service-role/", "AWSLambdaBasicExecutionRole")
    document = iam.get_policy_version(PolicyArn=BASIC_EXECUTION, VersionId=policy["DefaultVersionId"])
    statement = document["PolicyVersion"]["Document"]["Statement"][0]
    assert statement["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    names = {
        p["PolicyName"]
        for p in iam.get_paginator("list_policies").paginate(Scope="AWS").build_full_result()["Policies"]
    }
    assert {
        "AdministratorAccess",
        "AWSLambda_FullAccess",
        "AmazonS3ReadOnlyAccess",
        "ReadOnlyAccess",
    } <= names
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert error_of(exc)[:2] == (403, "AccessDenied")


def test_pagination(iam: Any) -> None:
    prefix = f"/{unique('page')}/"
    names = sorted(unique("p") for _ in range(5))
    for name in names:
        iam.create_user(UserName=name, Path=prefix)
    first = iam.list_users(PathPrefix=prefix, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    pages = iam.get_paginator("list_users").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 2})
    assert [u["UserName"] for u in pages.build_full_result()["Users"]] == names
    for name in names:
        iam.delete_user(UserName=name)


# -- the AWS CLI --------------------------------------------------------------------------------------------------
def aws(server: Server, *args: str) -> Any:
    done = subprocess.run(
        ["aws", *args, "--output", "json"],
        env=server.client_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_aws_cli(server: Server, tmp_path: Path) -> None:
    user, role = unique("cli-user"), unique("cli-role")
    assert aws(server, "iam", "create-user", "--user-name", user)["User"]["UserName"] == user
    key = aws(server, "iam", "create-access-key", "--user-name", user)["AccessKey"]
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(trust({"AWS": f"arn:aws:iam::000000000000:user/{user}"}))
    created = aws(
        server,
        "iam",
        "create-role",
        "--role-name",
        role,
        "--assume-role-policy-document",
        f"file://{trust_file}",
    )
    assert created["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"].endswith(user)
    aws(server, "iam", "attach-role-policy", "--role-name", role, "--policy-arn", BASIC_EXECUTION)
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(ALLOW_S3))
    aws(
        server,
        "iam",
        "put-role-policy",
        "--role-name",
        role,
        "--policy-name",
        "s3",
        "--policy-document",
        f"file://{policy_file}",
    )
    attached = aws(server, "iam", "list-attached-role-policies", "--role-name", role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [BASIC_EXECUTION]
    assert aws(server, "sts", "get-caller-identity")["Arn"] == "arn:aws:iam::000000000000:root"

    env = server.client_env()
    env.update(AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    as_user = subprocess.run(
        ["aws", "sts", "assume-role", "--role-arn", created["Role"]["Arn"], "--role-session-name", "cli",
         "--output", "json"], env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert as_user.returncode == 0, as_user.stderr
    assumed = json.loads(as_user.stdout)
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role}/cli"
    assert assumed["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_instance_profiles_and_permissions_boundaries(iam: Any) -> None:
    role, profile, user = unique("role"), unique("profile"), unique("user")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=LAMBDA_TRUST)
    created = iam.create_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
    assert created["InstanceProfileId"].startswith("AIPA") and created["Roles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    with pytest.raises(ClientError) as exc:
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    assert error_of(exc)[:2] == (409, "LimitExceeded")
    assert [
        p["InstanceProfileName"]
        for p in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
    ] == [profile]
    assert (
        iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"][0]["RoleName"]
        == role
    )
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName=role)
    assert error_of(exc) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove roles from instance profile first.",
    )
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=profile)
    with pytest.raises(ClientError) as exc:
        iam.get_instance_profile(InstanceProfileName=profile)
    assert error_of(exc) == (404, "NoSuchEntity", f"Instance Profile {profile} cannot be found.")

    boundary = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": boundary,
    }
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] >= 1
    bounded = iam.list_entities_for_policy(PolicyArn=boundary, PolicyUsageFilter="PermissionsBoundary")
    assert role in [r["RoleName"] for r in bounded["PolicyRoles"]]
    iam.delete_role_permissions_boundary(RoleName=role)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role)["Role"]
    iam.create_user(UserName=user, PermissionsBoundary=boundary)
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    iam.delete_user_permissions_boundary(UserName=user)
    iam.delete_user(UserName=user)
    iam.delete_role(RoleName=role)


def test_policy_simulator(iam: Any) -> None:
    user, group = unique("simulated"), unique("group")
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    deny_secret = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"}],
    }
    iam.put_user_policy(UserName=user, PolicyName="deny", PolicyDocument=json.dumps(deny_secret))
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::public/a", "arn:aws:s3:::secret/b"],
    )["EvaluationResults"]
    decisions = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results}
    assert decisions == {
        ("s3:GetObject", "arn:aws:s3:::public/a"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::secret/b"): "explicitDeny",
        ("s3:PutObject", "arn:aws:s3:::public/a"): "implicitDeny",
        ("s3:PutObject", "arn:aws:s3:::secret/b"): "implicitDeny",
    }
    ip_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*",
                       "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}],
    }  # fmt: skip
    for ip, decision in (("10.1.2.3", "allowed"), ("192.168.0.1", "implicitDeny")):
        custom = iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(ip_only)],
            ActionNames=["lambda:InvokeFunction"],
            ContextEntries=[
                {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": [ip], "ContextKeyType": "ip"}
            ],
        )
        assert custom["EvaluationResults"][0]["EvalDecision"] == decision
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=["{"], ActionNames=["s3:GetObject"])
    assert error_of(exc)[:2] == (400, "MalformedPolicyDocument")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.detach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.delete_group(GroupName=group)
    iam.delete_user_policy(UserName=user, PolicyName="deny")
    iam.delete_user(UserName=user)


def test_credentials_lambdabox_does_not_issue(iam: Any) -> None:
    user = unique("plain")
    iam.create_user(UserName=user)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    assert iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"] == []
    assert iam.list_signing_certificates(UserName=user)["Certificates"] == []
    assert iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"] == []
    with pytest.raises(ClientError) as exc:
        iam.get_login_profile(UserName=user)
    assert error_of(exc) == (404, "NoSuchEntity", f"Login Profile for User {user} cannot be found.")
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.delete_user(UserName=user)
