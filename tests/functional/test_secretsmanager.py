"""AWS Secrets Manager through boto3 and the AWS CLI: secrets, versions and staging labels, deletion
windows, listing, random passwords, encryption at rest, and rotation through a Lambda function."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, create_function, raw_request, unique, wait_for_logs

ACCOUNT = "000000000000"
PREFIX = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:"
AWS = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def sm(server: Server) -> Any:
    return server.client("secretsmanager")


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def stages(sm: Any, secret_id: str) -> dict[str, list[str]]:
    return dict(sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"])


def test_create_and_read_by_name_full_and_partial_arn(sm: Any) -> None:
    name = unique("app/db")
    created = sm.create_secret(Name=name, SecretString='{"password":"p1"}', Description="db")
    assert re.fullmatch(re.escape(PREFIX + name) + r"-[A-Za-z0-9]{6}", created["ARN"])
    assert created["Name"] == name and created["VersionId"]
    for secret_id in (name, created["ARN"], PREFIX + name):
        value = sm.get_secret_value(SecretId=secret_id)
        assert value["SecretString"] == '{"password":"p1"}'
        assert (value["ARN"], value["VersionId"], value["VersionStages"]) == (
            created["ARN"],
            created["VersionId"],
            ["AWSCURRENT"],
        )
    described = sm.describe_secret(SecretId=name)
    assert described["Description"] == "db" and "KmsKeyId" not in described
    assert described["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert {"CreatedDate", "LastChangedDate", "LastAccessedDate"} <= set(described)
    binary = sm.create_secret(Name=unique("bin"), SecretBinary=b"\x00\x01binary")
    got = sm.get_secret_value(SecretId=binary["ARN"])
    assert got["SecretBinary"] == b"\x00\x01binary" and "SecretString" not in got

    with pytest.raises(ClientError) as excinfo:
        sm.get_secret_value(SecretId=unique("missing"))
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
    with pytest.raises(ClientError) as excinfo:
        sm.create_secret(Name=name, SecretString="x")
    assert error_of(excinfo) == (
        "ResourceExistsException",
        f"The operation failed because the secret {name} already exists.",
    )
    with pytest.raises(ClientError) as excinfo:
        sm.create_secret(Name=unique("both"), SecretString="x", SecretBinary=b"y")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        sm.create_secret(Name="bad name with spaces", SecretString="x")
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_versions_and_staging_labels(sm: Any) -> None:
    name = unique("staged")
    first = sm.create_secret(Name=name, SecretString="v1")["VersionId"]
    second = sm.put_secret_value(SecretId=name, SecretString="v2")
    assert second["VersionStages"] == ["AWSCURRENT"]
    assert stages(sm, name) == {first: ["AWSPREVIOUS"], second["VersionId"]: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v2"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "v1"
    assert sm.get_secret_value(SecretId=name, VersionId=first)["SecretString"] == "v1"
    third = sm.put_secret_value(SecretId=name, SecretString="v3", VersionStages=["test"])["VersionId"]
    assert stages(sm, name)[third] == ["test"]
    sm.update_secret_version_stage(
        SecretId=name, VersionStage="test", MoveToVersionId=first, RemoveFromVersionId=third
    )
    assert "test" in stages(sm, name)[first] and third not in stages(sm, name)
    with pytest.raises(ClientError) as excinfo:
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=third)
    assert error_of(excinfo) == (
        "InvalidParameterException",
        f"The staging label AWSCURRENT is currently attached to version {second['VersionId']}, so you must "
        "explicitly reference that version in RemoveFromVersionId.",
    )
    sm.update_secret_version_stage(
        SecretId=name,
        VersionStage="AWSCURRENT",
        MoveToVersionId=third,
        RemoveFromVersionId=second["VersionId"],
    )
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v3"
    assert stages(sm, name)[second["VersionId"]] == ["AWSPREVIOUS"]
    listed = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert {v["VersionId"] for v in listed} == {first, second["VersionId"], third}
    with pytest.raises(ClientError) as excinfo:
        sm.get_secret_value(SecretId=name, VersionStage="nothing")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: nothing",
    )
    with pytest.raises(ClientError) as excinfo:
        sm.put_secret_value(SecretId=name, SecretString="v4", ClientRequestToken=first)
    assert error_of(excinfo) == (
        "ResourceExistsException",
        "You can't modify an existing version, you can only create a new version.",
    )


def test_client_request_tokens_make_retries_idempotent(sm: Any) -> None:
    name = unique("idem")
    token = "a" * 32
    created = sm.create_secret(Name=name, SecretString="v", ClientRequestToken=token)
    again = sm.create_secret(Name=name, SecretString="v", ClientRequestToken=token)
    assert (again["ARN"], again["VersionId"]) == (created["ARN"], token)
    with pytest.raises(ClientError) as excinfo:
        sm.create_secret(Name=name, SecretString="other", ClientRequestToken=token)
    assert error_of(excinfo)[0] == "ResourceExistsException"
    put_token = "b" * 32
    sm.put_secret_value(SecretId=name, SecretString="w", ClientRequestToken=put_token)
    sm.put_secret_value(SecretId=name, SecretString="w", ClientRequestToken=put_token)
    assert len(stages(sm, name)) == 2


def test_update_secret_and_customer_managed_keys(server: Server, sm: Any) -> None:
    kms = server.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    name = unique("cmk")
    sm.create_secret(Name=name, SecretString="s1", KmsKeyId=key_id)
    assert sm.describe_secret(SecretId=name)["KmsKeyId"] == key_id
    updated = sm.update_secret(SecretId=name, Description="new", SecretString="s2")
    assert updated["VersionId"] and sm.get_secret_value(SecretId=name)["SecretString"] == "s2"
    assert sm.describe_secret(SecretId=name)["Description"] == "new"
    versions = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert all(v["KmsKeyIds"] == [key_id] for v in versions)
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as excinfo:
        sm.get_secret_value(SecretId=name)
    assert error_of(excinfo)[0] == "DecryptionFailure"
    with pytest.raises(ClientError) as excinfo:
        sm.put_secret_value(SecretId=name, SecretString="s3")
    assert error_of(excinfo)[0] == "EncryptionFailure"
    kms.enable_key(KeyId=key_id)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "s2"


def test_delete_restore_and_force_delete(sm: Any) -> None:
    name = unique("gone")
    arn = sm.create_secret(Name=name, SecretString="v")["ARN"]
    for days in (3, 31):
        with pytest.raises(ClientError) as excinfo:
            sm.delete_secret(SecretId=name, RecoveryWindowInDays=days)
        assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert error_of(excinfo)[0] == "InvalidParameterException"
    deleted = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert deleted["ARN"] == arn
    assert abs(deleted["DeletionDate"].timestamp() - (time.time() + 7 * 86400)) < 60
    message = "You can't perform this operation on the secret because it was marked for deletion."
    for call in (
        lambda: sm.get_secret_value(SecretId=name),
        lambda: sm.put_secret_value(SecretId=name, SecretString="w"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("InvalidRequestException", message)
    assert "DeletedDate" in sm.describe_secret(SecretId=name)
    assert name not in [
        s["Name"] for s in sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    ]
    planned = sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}], IncludePlannedDeletion=True)
    assert [s["Name"] for s in planned["SecretList"]] == [name]
    with pytest.raises(ClientError) as excinfo:
        sm.create_secret(Name=name, SecretString="again")
    assert error_of(excinfo)[0] == "InvalidRequestException"
    assert sm.restore_secret(SecretId=name)["ARN"] == arn
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"
    sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as excinfo:
        sm.describe_secret(SecretId=name)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_deleted_secrets_are_purged_by_the_platform_clock(server_factory: Callable[..., Server]) -> None:
    server = server_factory(LAMBDABOX_TEST_HOOKS="1")
    sm = server.client("secretsmanager")
    sm.create_secret(Name="purged", SecretString="v")
    sm.delete_secret(SecretId="purged", RecoveryWindowInDays=7)
    raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={time.time() + 6 * 86400}")
    assert sm.describe_secret(SecretId="purged")["Name"] == "purged"
    raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={time.time() + 8 * 86400}")
    with pytest.raises(ClientError) as excinfo:
        sm.describe_secret(SecretId="purged")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    sm.create_secret(Name="purged", SecretString="new")  # the name is free again


def test_list_secrets_filters_and_pagination(sm: Any) -> None:
    prefix = unique("listed")
    for index in range(5):
        sm.create_secret(
            Name=f"{prefix}/s{index}",
            SecretString="v",
            Description=f"Number {index}",
            Tags=[{"Key": "parity", "Value": "even" if index % 2 == 0 else "odd"}],
        )
    by_name = [{"Key": "name", "Values": [prefix]}]
    pages = list(sm.get_paginator("list_secrets").paginate(Filters=by_name, PaginationConfig={"PageSize": 2}))
    assert [len(p["SecretList"]) for p in pages] == [2, 2, 1]
    names = [s["Name"] for p in pages for s in p["SecretList"]]
    assert sorted(names) == [f"{prefix}/s{i}" for i in range(5)]
    by_name_asc = sm.list_secrets(Filters=by_name, SortBy="name", SortOrder="asc")["SecretList"]
    assert [s["Name"] for s in by_name_asc] == [f"{prefix}/s{i}" for i in range(5)]
    newest_first = sm.list_secrets(Filters=by_name)["SecretList"]
    assert [s["Name"] for s in newest_first] == [f"{prefix}/s{i}" for i in reversed(range(5))]
    even = sm.list_secrets(Filters=[*by_name, {"Key": "tag-value", "Values": ["even"]}])["SecretList"]
    assert sorted(s["Name"] for s in even) == [f"{prefix}/s0", f"{prefix}/s2", f"{prefix}/s4"]
    assert even[0]["Tags"] == [{"Key": "parity", "Value": "even"}] and "SecretVersionsToStages" in even[0]
    described = sm.list_secrets(Filters=[*by_name, {"Key": "description", "Values": ["number 3"]}])
    assert [s["Name"] for s in described["SecretList"]] == [f"{prefix}/s3"]
    negated = sm.list_secrets(Filters=[*by_name, {"Key": "tag-value", "Values": ["!even"]}])["SecretList"]
    assert sorted(s["Name"] for s in negated) == [f"{prefix}/s1", f"{prefix}/s3"]
    with pytest.raises(ClientError) as excinfo:
        sm.list_secrets(NextToken="garbage")
    assert error_of(excinfo)[0] == "InvalidNextTokenException"


def test_tags_random_passwords_and_batch_get(sm: Any) -> None:
    name = unique("tagged")
    sm.create_secret(Name=name, SecretString="v", Tags=[{"Key": "a", "Value": "1"}])
    sm.tag_resource(SecretId=name, Tags=[{"Key": "b", "Value": "2"}])
    sm.untag_resource(SecretId=name, TagKeys=["a"])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "b", "Value": "2"}]

    password = sm.get_random_password(PasswordLength=40, ExcludePunctuation=True)["RandomPassword"]
    assert len(password) == 40 and password.isalnum()
    assert any(c.isdigit() for c in password) and any(c.isupper() for c in password)
    digits = sm.get_random_password(
        PasswordLength=12, ExcludeUppercase=True, ExcludeLowercase=True, ExcludePunctuation=True
    )["RandomPassword"]
    assert digits.isdigit()
    assert len(sm.get_random_password()["RandomPassword"]) == 32

    missing = unique("missing")
    batch = sm.batch_get_secret_value(SecretIdList=[name, missing])
    assert [v["Name"] for v in batch["SecretValues"]] == [name]
    assert [(e["SecretId"], e["ErrorCode"]) for e in batch["Errors"]] == [
        (missing, "ResourceNotFoundException")
    ]
    filtered = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [name]}])
    assert [v["SecretString"] for v in filtered["SecretValues"]] == ["v"]


def test_resource_policies(sm: Any) -> None:
    name = unique("policy")
    arn = sm.create_secret(Name=name, SecretString="v")["ARN"]
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*"}],
        }
    )
    assert sm.validate_resource_policy(ResourcePolicy=document)["PolicyValidationPassed"] is True
    assert sm.put_resource_policy(SecretId=name, ResourcePolicy=document)["ARN"] == arn
    assert sm.get_resource_policy(SecretId=name)["ResourcePolicy"] == document
    with pytest.raises(ClientError) as excinfo:
        sm.put_resource_policy(SecretId=name, ResourcePolicy="{oops")
    assert error_of(excinfo)[0] == "MalformedPolicyDocumentException"
    sm.delete_resource_policy(SecretId=name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)


def test_values_are_encrypted_at_rest(server: Server, sm: Any) -> None:
    marker = f"plaintext-marker-{unique('x')}"
    sm.create_secret(Name=unique("rest"), SecretString=marker)
    stored = b"".join(p.read_bytes() for p in server.data_dir.glob("lambdabox.db*"))
    assert stored and marker.encode() not in stored


def test_aws_cli_get_secret_value(server: Server, sm: Any, tmp_path: Path) -> None:
    name = unique("cli")
    sm.create_secret(Name=name, SecretString="from-the-cli")
    env = server.client_env()
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    done = subprocess.run(
        [
            str(AWS),
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            name,
            "--query",
            "SecretString",
            "--output",
            "text",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "from-the-cli"


ROTATION_FUNCTION = """
import json
import boto3

def handler(event, context):
    client = boto3.client("secretsmanager")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    print("step", step)
    metadata = client.describe_secret(SecretId=arn)
    if not metadata["RotationEnabled"]:
        raise ValueError("rotation is not enabled")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError("the version has no stage")
    if "AWSCURRENT" in versions[token]:
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError("the version is not pending")
    if step == "createSecret":
        current = json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except client.exceptions.ResourceNotFoundException:
            current["password"] = client.get_random_password(ExcludePunctuation=True)["RandomPassword"]
            client.put_secret_value(
                SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current), VersionStages=["AWSPENDING"]
            )
    elif step == "testSecret":
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        if metadata.get("Description") == "fail the test step":
            raise ValueError("the new credentials do not work")
    elif step == "finishSecret":
        current_version = None
        for version, labels in client.describe_secret(SecretId=arn)["VersionIdsToStages"].items():
            if "AWSCURRENT" in labels:
                current_version = version
        client.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current_version
        )
"""


def test_rotation_with_a_rotation_function_moves_the_stages(
    server: Server, sm: Any, lambda_client: Any
) -> None:
    function = create_function(lambda_client, ROTATION_FUNCTION, Timeout=60)
    function_arn = lambda_client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    name = unique("rotated")
    first = sm.create_secret(Name=name, SecretString=json.dumps({"user": "app", "password": "old"}))[
        "VersionId"
    ]
    with pytest.raises(ClientError) as excinfo:
        sm.rotate_secret(SecretId=name, RotationLambdaARN=function_arn)
    assert error_of(excinfo)[0] == "AccessDeniedException"
    lambda_client.add_permission(
        FunctionName=function,
        StatementId="secretsmanager",
        Action="lambda:InvokeFunction",
        Principal="secretsmanager.amazonaws.com",
    )
    rotated = sm.rotate_secret(
        SecretId=name, RotationLambdaARN=function_arn, RotationRules={"AutomaticallyAfterDays": 30}
    )
    new = rotated["VersionId"]
    assert new and rotated["ARN"].startswith(PREFIX + name)
    deadline = time.monotonic() + 60
    while stages(sm, name).get(new) != ["AWSCURRENT"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stages(sm, name) == {first: ["AWSPREVIOUS"], new: ["AWSCURRENT"]}
    value = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert value["user"] == "app" and value["password"] not in ("old", "")
    described = sm.describe_secret(SecretId=name)
    assert described["RotationEnabled"] is True and described["RotationLambdaARN"] == function_arn
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert "LastRotatedDate" in described and "NextRotationDate" in described
    cancelled = sm.cancel_rotate_secret(SecretId=name)
    assert cancelled["Name"] == name
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False
    with pytest.raises(ClientError) as excinfo:
        sm.rotate_secret(SecretId=unique("norotation"))
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def wait_current(sm: Any, name: str, version_id: str) -> None:
    deadline = time.monotonic() + 60
    while stages(sm, name).get(version_id) != ["AWSCURRENT"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stages(sm, name).get(version_id) == ["AWSCURRENT"], stages(sm, name)


def test_rotation_rules_rotate_again_when_due_on_the_platform_clock(
    server_factory: Callable[..., Server],
) -> None:
    server = server_factory(LAMBDABOX_TEST_HOOKS="1")
    sm = server.client("secretsmanager")
    lambda_client = server.client("lambda")
    function = create_function(lambda_client, ROTATION_FUNCTION, Timeout=60)
    lambda_client.add_permission(
        FunctionName=function,
        StatementId="secretsmanager",
        Action="lambda:InvokeFunction",
        Principal="secretsmanager.amazonaws.com",
    )
    function_arn = lambda_client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    sm.create_secret(Name="scheduled", SecretString=json.dumps({"password": "first"}))
    with pytest.raises(ClientError) as excinfo:
        sm.rotate_secret(
            SecretId="scheduled",
            RotationLambdaARN=function_arn,
            RotationRules={"ScheduleExpression": "rate(1 hour)"},
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"
    first = sm.rotate_secret(
        SecretId="scheduled", RotationLambdaARN=function_arn, RotationRules={"AutomaticallyAfterDays": 2}
    )["VersionId"]
    wait_current(sm, "scheduled", first)
    described = sm.describe_secret(SecretId="scheduled")
    due = described["NextRotationDate"].timestamp()
    assert abs(due - (described["LastRotatedDate"].timestamp() + 2 * 86400)) < 5
    raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={due + 60}")

    # finishSecret moves AWSCURRENT first; AWSPENDING leaves the new version once the step returns.
    def rotated(labels: dict[str, list[str]]) -> bool:
        return labels.get(first) == ["AWSPREVIOUS"] and sorted(labels.values()) == [
            ["AWSCURRENT"],
            ["AWSPREVIOUS"],
        ]

    deadline = time.monotonic() + 60
    while not rotated(stages(sm, "scheduled")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rotated(stages(sm, "scheduled")), stages(sm, "scheduled")


def test_a_failed_rotation_keeps_its_pending_version_and_is_reattempted(
    server: Server, sm: Any, lambda_client: Any
) -> None:
    function = create_function(lambda_client, ROTATION_FUNCTION, Timeout=60)
    lambda_client.add_permission(
        FunctionName=function,
        StatementId="secretsmanager",
        Action="lambda:InvokeFunction",
        Principal="secretsmanager.amazonaws.com",
    )
    function_arn = lambda_client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    name = unique("flaky")
    first = sm.create_secret(Name=name, SecretString="{}", Description="fail the test step")["VersionId"]
    pending = sm.rotate_secret(SecretId=name, RotationLambdaARN=function_arn)["VersionId"]
    wait_for_logs(
        server, function, lambda lines: any("the new credentials do not work" in x for x in lines), timeout=60
    )
    time.sleep(0.5)
    assert stages(sm, name) == {first: ["AWSCURRENT"], pending: ["AWSPENDING"]}
    sm.update_secret(SecretId=name, Description="fixed")
    with pytest.raises(ClientError) as excinfo:
        sm.rotate_secret(SecretId=name)
    assert error_of(excinfo) == (
        "InvalidRequestException",
        "A previous rotation isn't complete. That rotation will be reattempted.",
    )
    wait_current(sm, name, pending)
    assert stages(sm, name) == {first: ["AWSPREVIOUS"], pending: ["AWSCURRENT"]}
