"""AWS KMS through boto3 and the AWS CLI: keys, aliases, key states, encryption, data keys."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, create_function, raw_request, unique

ACCOUNT = "000000000000"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/"
AWS = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def kms(server: Server) -> Any:
    return server.client("kms")


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def new_key(kms: Any, **kwargs: Any) -> str:
    return str(kms.create_key(**kwargs)["KeyMetadata"]["KeyId"])


def test_create_describe_list_and_tag_keys(kms: Any) -> None:
    created = kms.create_key(Description="orders", Tags=[{"TagKey": "team", "TagValue": "a"}])["KeyMetadata"]
    key_id = created["KeyId"]
    assert created["Arn"] == KEY_ARN + key_id
    assert created["KeyState"] == "Enabled" and created["Enabled"] is True
    assert (created["KeySpec"], created["KeyUsage"], created["KeyManager"]) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        "CUSTOMER",
    )
    assert created["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    for ref in (key_id, KEY_ARN + key_id):
        assert kms.describe_key(KeyId=ref)["KeyMetadata"]["Description"] == "orders"
    listed = [k for page in kms.get_paginator("list_keys").paginate(Limit=2) for k in page["Keys"]]
    assert {"KeyId": key_id, "KeyArn": KEY_ARN + key_id} in listed
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "team", "TagValue": "a"}]
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "env", "TagValue": "prod"}])
    kms.untag_resource(KeyId=key_id, TagKeys=["team"])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "env", "TagValue": "prod"}]
    kms.update_key_description(KeyId=key_id, Description="payments")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "payments"

    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(ClientError) as excinfo:
        kms.describe_key(KeyId=missing)
    assert error_of(excinfo) == ("NotFoundException", f"Key '{KEY_ARN}{missing}' does not exist")
    with pytest.raises(ClientError) as excinfo:
        kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    assert error_of(excinfo)[0] == "UnsupportedOperationException"


def test_encrypt_decrypt_with_context_and_the_key_named_by_the_blob(kms: Any) -> None:
    key_id = new_key(kms)
    context = {"purpose": "test", "tenant": "7"}
    encrypted = kms.encrypt(KeyId=key_id, Plaintext=b"top secret", EncryptionContext=context)
    assert encrypted["KeyId"] == KEY_ARN + key_id and encrypted["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = encrypted["CiphertextBlob"]
    assert b"top secret" not in blob
    decrypted = kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(reversed(context.items())))
    assert (decrypted["Plaintext"], decrypted["KeyId"]) == (b"top secret", KEY_ARN + key_id)
    assert (
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=context, KeyId=key_id)["Plaintext"]
        == b"top secret"
    )
    for wrong in ({}, {"purpose": "test"}, {"purpose": "test", "tenant": "8"}):
        with pytest.raises(ClientError) as excinfo:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)
        assert error_of(excinfo)[0] == "InvalidCiphertextException"
    with pytest.raises(ClientError) as excinfo:
        kms.decrypt(CiphertextBlob=b"not a ciphertext blob at all, really not one")
    assert error_of(excinfo)[0] == "InvalidCiphertextException"
    with pytest.raises(ClientError) as excinfo:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=context, KeyId=new_key(kms))
    assert error_of(excinfo)[0] == "IncorrectKeyException"
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4097)
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", DryRun=True)
    assert error_of(excinfo)[0] == "DryRunOperationException"


def test_aliases(kms: Any) -> None:
    key_id = new_key(kms)
    other = new_key(kms)
    name = f"alias/{unique('app')}"
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    aliases = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [(a["AliasName"], a["TargetKeyId"], a["AliasArn"]) for a in aliases] == [
        (name, key_id, f"arn:aws:kms:us-east-1:{ACCOUNT}:{name}")
    ]
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key_id
    blob = kms.encrypt(KeyId=f"arn:aws:kms:us-east-1:{ACCOUNT}:{name}", Plaintext=b"v")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["KeyId"] == KEY_ARN + key_id
    with pytest.raises(ClientError) as excinfo:
        kms.create_alias(AliasName=name, TargetKeyId=other)
    assert error_of(excinfo) == (
        "AlreadyExistsException",
        f"An alias with the name arn:aws:kms:us-east-1:{ACCOUNT}:{name} already exists",
    )
    kms.update_alias(AliasName=name, TargetKeyId=other)
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == other
    with pytest.raises(ClientError) as excinfo:
        kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key_id)
    assert error_of(excinfo)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as excinfo:
        kms.create_alias(AliasName="not-an-alias", TargetKeyId=key_id)
    assert error_of(excinfo)[0] == "ValidationException"
    kms.delete_alias(AliasName=name)
    with pytest.raises(ClientError) as excinfo:
        kms.describe_key(KeyId=name)
    assert error_of(excinfo) == (
        "NotFoundException",
        f"Alias arn:aws:kms:us-east-1:{ACCOUNT}:{name} is not found.",
    )
    with pytest.raises(ClientError) as excinfo:
        kms.delete_alias(AliasName=name)
    assert error_of(excinfo)[0] == "NotFoundException"


def test_aws_managed_keys_are_created_on_first_use(kms: Any) -> None:
    metadata = kms.describe_key(KeyId="alias/aws/lambda")["KeyMetadata"]
    assert metadata["KeyManager"] == "AWS" and metadata["KeyState"] == "Enabled"
    assert kms.describe_key(KeyId="alias/aws/lambda")["KeyMetadata"]["KeyId"] == metadata["KeyId"]
    names = [a["AliasName"] for a in kms.list_aliases(KeyId=metadata["KeyId"])["Aliases"]]
    assert names == ["alias/aws/lambda"]
    with pytest.raises(ClientError) as excinfo:
        kms.disable_key(KeyId=metadata["KeyId"])
    assert error_of(excinfo)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as excinfo:
        kms.describe_key(KeyId="alias/aws/not-a-service")
    assert error_of(excinfo)[0] == "NotFoundException"


def test_disabled_keys_neither_encrypt_nor_decrypt(kms: Any) -> None:
    key_id = new_key(kms)
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"v")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    for call in (lambda: kms.encrypt(KeyId=key_id, Plaintext=b"v"), lambda: kms.decrypt(CiphertextBlob=blob)):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("DisabledException", f"{KEY_ARN}{key_id} is disabled.")
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"v"


def test_data_keys_and_random_bytes(kms: Any) -> None:
    key_id = new_key(kms)
    for spec, size in (("AES_256", 32), ("AES_128", 16)):
        data_key = kms.generate_data_key(KeyId=key_id, KeySpec=spec, EncryptionContext={"a": "b"})
        assert len(data_key["Plaintext"]) == size and data_key["KeyId"] == KEY_ARN + key_id
        opened = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext={"a": "b"})
        assert opened["Plaintext"] == data_key["Plaintext"]
    assert len(kms.generate_data_key(KeyId=key_id, NumberOfBytes=64)["Plaintext"]) == 64
    bare = kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256")
    assert (
        "Plaintext" not in bare and len(kms.decrypt(CiphertextBlob=bare["CiphertextBlob"])["Plaintext"]) == 32
    )
    for kwargs in ({}, {"KeySpec": "AES_256", "NumberOfBytes": 32}):
        with pytest.raises(ClientError) as excinfo:
            kms.generate_data_key(KeyId=key_id, **kwargs)
        assert error_of(excinfo) == (
            "ValidationException",
            "Please specify either number of bytes or key spec.",
        )
    randoms = {kms.generate_random(NumberOfBytes=24)["Plaintext"] for _ in range(3)}
    assert len(randoms) == 3 and all(len(r) == 24 for r in randoms)


def test_deletion_is_scheduled_cancelled_and_happens_on_the_platform_clock(
    server_factory: Callable[..., Server],
) -> None:
    server = server_factory(LAMBDABOX_TEST_HOOKS="1")
    kms = server.client("kms")
    key_id = new_key(kms)
    name = "alias/doomed"
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    with pytest.raises(ClientError) as excinfo:
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=3)
    assert error_of(excinfo)[0] == "ValidationException"
    scheduled = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion" and scheduled["PendingWindowInDays"] == 7
    assert abs(scheduled["DeletionDate"].timestamp() - (time.time() + 7 * 86400)) < 60
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key_id, Plaintext=b"v")
    assert error_of(excinfo) == ("KMSInvalidStateException", f"{KEY_ARN}{key_id} is pending deletion.")
    with pytest.raises(ClientError) as excinfo:
        kms.enable_key(KeyId=key_id)
    assert error_of(excinfo)[0] == "KMSInvalidStateException"
    assert kms.cancel_key_deletion(KeyId=key_id)["KeyId"] == KEY_ARN + key_id
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={time.time() + 8 * 86400}")
    with pytest.raises(ClientError) as excinfo:
        kms.describe_key(KeyId=key_id)
    assert error_of(excinfo)[0] == "NotFoundException"
    assert name not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]


def test_aws_cli_encrypt_and_decrypt(server: Server, kms: Any, tmp_path: Path) -> None:
    key_id = new_key(kms)
    env = server.client_env()
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    (tmp_path / "plain.txt").write_bytes(b"hello from the cli")

    def aws(*args: str) -> str:
        done = subprocess.run(
            [str(AWS), *args], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    blob = aws(
        "kms",
        "encrypt",
        "--key-id",
        key_id,
        "--plaintext",
        "fileb://plain.txt",
        "--encryption-context",
        "app=cli",
        "--output",
        "text",
        "--query",
        "CiphertextBlob",
    )
    (tmp_path / "blob.bin").write_bytes(base64.b64decode(blob))
    plain = aws(
        "kms",
        "decrypt",
        "--ciphertext-blob",
        "fileb://blob.bin",
        "--encryption-context",
        "app=cli",
        "--output",
        "text",
        "--query",
        "Plaintext",
    )
    assert base64.b64decode(plain) == b"hello from the cli"


ENV_READER = """
import os

def handler(event, context):
    return os.environ.get("MARKER")
"""


def test_function_environment_is_encrypted_at_rest_with_its_kms_key(
    server: Server, kms: Any, lambda_client: Any
) -> None:
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    marker = f"env-marker-{unique('m')}"
    function = create_function(
        lambda_client, ENV_READER, KMSKeyArn=key_arn, Environment={"Variables": {"MARKER": marker}}
    )
    configuration = lambda_client.get_function_configuration(FunctionName=function)
    assert configuration["KMSKeyArn"] == key_arn
    assert configuration["Environment"]["Variables"] == {"MARKER": marker}
    assert json.loads(lambda_client.invoke(FunctionName=function)["Payload"].read()) == marker
    stored = b"".join(p.read_bytes() for p in server.data_dir.glob("lambdabox.db*"))
    assert marker.encode() not in stored

    kms.disable_key(KeyId=key_arn)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke(FunctionName=function)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert error_of(excinfo) == (
        "KMSDisabledException",
        "Lambda was unable to decrypt the environment variables because the KMS key used is disabled. "
        "Please check the function's KMS key settings.",
    )
    kms.enable_key(KeyId=key_arn)
    assert json.loads(lambda_client.invoke(FunctionName=function)["Payload"].read()) == marker

    missing = f"{KEY_ARN}11111111-2222-3333-4444-555555555555"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_configuration(FunctionName=function, KMSKeyArn=missing)
    assert error_of(excinfo)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as excinfo:
        create_function(
            lambda_client, ENV_READER, KMSKeyArn=missing, Environment={"Variables": {"NAME": "b"}}
        )
    assert error_of(excinfo)[0] == "InvalidParameterValueException"


def test_function_environment_without_a_key_uses_the_lambda_managed_key(
    server: Server, lambda_client: Any
) -> None:
    marker = f"env-marker-{unique('d')}"
    function = create_function(lambda_client, ENV_READER, Environment={"Variables": {"MARKER": marker}})
    assert json.loads(lambda_client.invoke(FunctionName=function)["Payload"].read()) == marker
    stored = b"".join(p.read_bytes() for p in server.data_dir.glob("lambdabox.db*"))
    assert marker.encode() not in stored


def test_key_policies_rotation_settings_and_re_encrypt(kms: Any) -> None:
    key_id = new_key(kms)
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    document = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*"}]})
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=document)
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == document
    with pytest.raises(ClientError) as excinfo:
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy="{not json")
    assert error_of(excinfo)[0] == "MalformedPolicyDocumentException"

    with_policy = new_key(kms, Policy=document)
    assert kms.get_key_policy(KeyId=with_policy)["Policy"] == document
    with pytest.raises(ClientError) as excinfo:
        kms.create_key(Origin="EXTERNAL")
    assert error_of(excinfo)[0] == "UnsupportedOperationException"

    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, 180)
    kms.disable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False

    other = new_key(kms)
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"moving", EncryptionContext={"k": "1"})["CiphertextBlob"]
    moved = kms.re_encrypt(
        CiphertextBlob=blob,
        SourceEncryptionContext={"k": "1"},
        DestinationKeyId=other,
        DestinationEncryptionContext={"k": "2"},
    )
    assert (moved["SourceKeyId"], moved["KeyId"]) == (KEY_ARN + key_id, KEY_ARN + other)
    opened = kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"k": "2"})
    assert opened["Plaintext"] == b"moving" and opened["KeyId"] == KEY_ARN + other
