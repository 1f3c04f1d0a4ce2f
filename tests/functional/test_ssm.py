"""AWS Systems Manager Parameter Store through boto3 and the AWS CLI: parameters, versions, labels, paths,
filters, SecureString with KMS, Secrets Manager references, and a function reading both at runtime."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, create_function, unique

ACCOUNT = "000000000000"
AWS = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def ssm(server: Server) -> Any:
    return server.client("ssm")


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_put_get_overwrite_and_types(ssm: Any) -> None:
    name = f"/{unique('app')}/endpoint"
    put = ssm.put_parameter(Name=name, Value="http://a", Type="String")
    assert (put["Version"], put["Tier"]) == (1, "Standard")
    got = ssm.get_parameter(Name=name)["Parameter"]
    assert (got["Name"], got["Type"], got["Value"], got["Version"], got["DataType"]) == (
        name,
        "String",
        "http://a",
        1,
        "text",
    )
    assert got["ARN"] == f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{name}"
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=name, Value="http://b", Type="String")
    assert error_of(excinfo) == (
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
    )
    assert ssm.put_parameter(Name=name, Value="http://b", Overwrite=True)["Version"] == 2
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "http://b"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "http://a"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Selector"] == ":1"
    assert ssm.get_parameter(Name=got["ARN"])["Parameter"]["Value"] == "http://b"
    listed = f"/{unique('list')}"
    ssm.put_parameter(Name=listed, Value="a,b,c", Type="StringList")
    assert ssm.get_parameter(Name=listed)["Parameter"]["Type"] == "StringList"
    plain = unique("plain")  # a name without a hierarchy
    ssm.put_parameter(Name=plain, Value="v", Type="String")
    assert ssm.get_parameter(Name=plain)["Parameter"]["ARN"].endswith(f":parameter/{plain}")

    with pytest.raises(ClientError) as excinfo:
        ssm.get_parameter(Name=f"/{unique('missing')}")
    assert error_of(excinfo)[0] == "ParameterNotFound"
    with pytest.raises(ClientError) as excinfo:
        ssm.get_parameter(Name=f"{name}:9")
    assert error_of(excinfo)[0] == "ParameterVersionNotFound"
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=f"/{unique('empty')}", Value="", Type="String")
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=f"/{unique('typeless')}", Value="v")
    assert error_of(excinfo) == (
        "ValidationException",
        "A parameter type is required when you create a parameter.",
    )
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=name, Value="v", Overwrite=True, Tags=[{"Key": "k", "Value": "v"}])
    assert error_of(excinfo)[0] == "ValidationException"


def test_name_rules(ssm: Any) -> None:
    cases = {
        "awsThing": "ValidationException",
        "SSM-thing": "ValidationException",
        "/ssm/thing": "ValidationException",
        "/aws/mine": "AccessDeniedException",
        "a/b": "ValidationException",
        "/has space": "ValidationException",
        "/" + "/".join(["l"] * 16): "HierarchyLevelLimitExceededException",
    }
    for name, code in cases.items():
        with pytest.raises(ClientError) as excinfo:
            ssm.put_parameter(Name=name, Value="v", Type="String")
        assert error_of(excinfo)[0] == code, name
    fifteen = f"/{unique('deep')}/" + "/".join(["l"] * 14)
    assert ssm.put_parameter(Name=fifteen, Value="v", Type="String")["Version"] == 1
    assert (
        ssm.put_parameter(Name=f"{unique('ssm-stack')[4:]}-Param", Value="v", Type="String")["Version"] == 1
    )


def test_secure_strings_with_default_and_customer_keys(server: Server, ssm: Any) -> None:
    name = f"/{unique('sec')}/password"
    ssm.put_parameter(Name=name, Value="hunter2", Type="SecureString")
    hidden = ssm.get_parameter(Name=name)["Parameter"]
    assert hidden["Type"] == "SecureString" and hidden["Value"] != "hunter2"
    kms = server.client("kms")
    opened = kms.decrypt(
        CiphertextBlob=base64.b64decode(hidden["Value"]),
        EncryptionContext={"PARAMETER_ARN": hidden["ARN"]},
    )
    assert opened["Plaintext"] == b"hunter2"
    assert opened["KeyId"] == kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]["Arn"]
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "hunter2"
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    assert described[0]["KeyId"] == "alias/aws/ssm"

    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    custom = f"/{unique('cmk')}"
    ssm.put_parameter(Name=custom, Value="s3cret", Type="SecureString", KeyId=key_id)
    assert ssm.get_parameter(Name=custom, WithDecryption=True)["Parameter"]["Value"] == "s3cret"
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as excinfo:
        ssm.get_parameter(Name=custom, WithDecryption=True)
    assert error_of(excinfo)[0] == "InvalidKeyId"
    assert ssm.get_parameter(Name=custom)["Parameter"]["Version"] == 1  # undecrypted reads still work
    kms.enable_key(KeyId=key_id)
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=f"/{unique('bad')}", Value="v", Type="SecureString", KeyId="alias/nothing")
    assert error_of(excinfo)[0] == "InvalidKeyId"
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=f"/{unique('bad')}", Value="v", Type="String", KeyId=key_id)
    assert error_of(excinfo)[0] == "ValidationException"


def test_get_parameters_and_paths(ssm: Any) -> None:
    root = f"/{unique('tree')}"
    names = [f"{root}/a", f"{root}/b", f"{root}/sub/c", f"{root}/sub/deeper/d"]
    for name in names:
        ssm.put_parameter(Name=name, Value=name[-1], Type="String")
    ssm.put_parameter(Name=f"{root}/secret", Value="x", Type="SecureString")
    found = ssm.get_parameters(Names=[f"{root}/a", f"{root}/nope", f"{root}/b:1", f"{root}/b:7"])
    assert sorted(p["Name"] for p in found["Parameters"]) == [f"{root}/a", f"{root}/b"]
    assert sorted(found["InvalidParameters"]) == [f"{root}/b:7", f"{root}/nope"]

    one_level = ssm.get_parameters_by_path(Path=root)["Parameters"]
    assert sorted(p["Name"] for p in one_level) == [f"{root}/a", f"{root}/b", f"{root}/secret"]
    pages = list(
        ssm.get_paginator("get_parameters_by_path").paginate(
            Path=f"{root}/", Recursive=True, WithDecryption=True, PaginationConfig={"PageSize": 2}
        )
    )
    every = {p["Name"]: p["Value"] for page in pages for p in page["Parameters"]}
    assert len(pages) == 3 and every == {**{n: n[-1] for n in names}, f"{root}/secret": "x"}
    typed = ssm.get_parameters_by_path(
        Path=root, Recursive=True, ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}]
    )
    assert [p["Name"] for p in typed["Parameters"]] == [f"{root}/secret"]
    with pytest.raises(ClientError) as excinfo:
        ssm.get_parameters_by_path(Path=root, MaxResults=11)
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        ssm.get_parameters_by_path(Path="no-slash")
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        ssm.get_parameters_by_path(Path=root, ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert error_of(excinfo)[0] == "InvalidFilterKey"

    described = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [f"{root}/sub"]}]
    )["Parameters"]
    assert sorted(p["Name"] for p in described) == [f"{root}/sub/c", f"{root}/sub/deeper/d"]
    begins = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"{root}/s"]}]
    )["Parameters"]
    assert sorted(p["Name"] for p in begins) == [f"{root}/secret", f"{root}/sub/c", f"{root}/sub/deeper/d"]
    assert {"Tier", "Version", "LastModifiedUser", "DataType"} <= set(begins[0])


def test_history_labels_and_version_limit(ssm: Any) -> None:
    name = f"/{unique('hist')}"
    for value in ("one", "two", "three"):
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    labelled = ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["stable", "1bad", "awsno"])
    assert labelled == {**labelled, "InvalidLabels": ["1bad", "awsno"], "ParameterVersion": 2}
    assert ssm.get_parameter(Name=f"{name}:stable")["Parameter"]["Value"] == "two"
    ssm.label_parameter_version(Name=name, Labels=["stable"])  # moves to the latest version
    assert ssm.get_parameter(Name=f"{name}:stable")["Parameter"]["Value"] == "three"
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"], h["Labels"]) for h in history] == [
        (1, "one", []),
        (2, "two", []),
        (3, "three", ["stable"]),
    ]
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=3, Labels=["stable", "other"])
    assert (removed["RemovedLabels"], removed["InvalidLabels"]) == (["stable"], ["other"])
    with pytest.raises(ClientError) as excinfo:
        ssm.label_parameter_version(Name=name, ParameterVersion=9, Labels=["x"])
    assert error_of(excinfo)[0] == "ParameterVersionNotFound"
    with pytest.raises(ClientError) as excinfo:
        ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=[f"l{i}" for i in range(11)])
    assert error_of(excinfo)[0] == "ValidationException"  # at most 10 labels per call (model)

    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["keep"])
    for index in range(97):
        ssm.put_parameter(Name=name, Value=f"v{index}", Type="String", Overwrite=True)
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=name, Value="v101", Type="String", Overwrite=True)
    assert error_of(excinfo)[0] == "ParameterMaxVersionLimitExceeded"
    ssm.unlabel_parameter_version(Name=name, ParameterVersion=1, Labels=["keep"])
    assert ssm.put_parameter(Name=name, Value="v101", Type="String", Overwrite=True)["Version"] == 101
    versions = [
        h["Version"]
        for h in ssm.get_paginator("get_parameter_history")
        .paginate(Name=name)
        .build_full_result()["Parameters"]
    ]
    assert len(versions) == 100 and versions[0] == 2


def test_tiers_patterns_and_data_types(ssm: Any) -> None:
    big = "x" * 5000
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=f"/{unique('big')}", Value=big, Type="String")
    assert error_of(excinfo)[0] == "ValidationException"
    advanced = f"/{unique('adv')}"
    assert ssm.put_parameter(Name=advanced, Value=big, Type="String", Tier="Advanced")["Tier"] == "Advanced"
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=advanced, Value="small", Overwrite=True, Tier="Standard")
    assert error_of(excinfo)[0] == "ValidationException"
    smart = f"/{unique('smart')}"
    assert (
        ssm.put_parameter(Name=smart, Value="s", Type="String", Tier="Intelligent-Tiering")["Tier"]
        == "Standard"
    )
    patterned = f"/{unique('pat')}"
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=patterned, Value="abc", Type="String", AllowedPattern=r"^\d+$")
    assert error_of(excinfo) == (
        "ParameterPatternMismatchException",
        r"Parameter value, cannot be validated against allowedPattern: ^\d+$",
    )
    ssm.put_parameter(Name=patterned, Value="123", Type="String", AllowedPattern=r"^\d+$")
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=patterned, Value="x", Overwrite=True)
    assert error_of(excinfo)[0] == "ParameterPatternMismatchException"
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=f"/{unique('dt')}", Value="v", Type="String", DataType="Text")
    assert error_of(excinfo)[0] == "ValidationException"
    image = f"/{unique('ami')}"
    ssm.put_parameter(Name=image, Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    assert ssm.get_parameter(Name=image)["Parameter"]["DataType"] == "aws:ec2:image"
    ssm.put_parameter(Name=image, Value="ami-0fedcba9876543210", Overwrite=True)
    assert ssm.get_parameter(Name=image)["Parameter"]["DataType"] == "aws:ec2:image"
    with pytest.raises(ClientError) as excinfo:
        ssm.put_parameter(Name=image, Value="not-an-image", Overwrite=True)
    assert error_of(excinfo)[0] == "ValidationException"


def test_delete_and_tags(ssm: Any) -> None:
    names = [f"/{unique('del')}" for _ in range(2)]
    for name in names:
        ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "team", "Value": "a"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=names[0])["TagList"]
    assert tags == [{"Key": "team", "Value": "a"}]
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId=names[0], Tags=[{"Key": "env", "Value": "p"}]
    )
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=names[0], TagKeys=["team"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=names[0])["TagList"] == [
        {"Key": "env", "Value": "p"}
    ]
    with pytest.raises(ClientError) as excinfo:
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/nothing/here")
    assert error_of(excinfo)[0] == "InvalidResourceId"
    ssm.delete_parameter(Name=names[0])
    with pytest.raises(ClientError) as excinfo:
        ssm.delete_parameter(Name=names[0])
    assert error_of(excinfo)[0] == "ParameterNotFound"
    deleted = ssm.delete_parameters(Names=[names[1], names[0]])
    assert (deleted["DeletedParameters"], deleted["InvalidParameters"]) == ([names[1]], [names[0]])


def test_secrets_manager_references(server: Server, ssm: Any) -> None:
    sm = server.client("secretsmanager")
    name = unique("ref")
    sm.create_secret(Name=name, SecretString="from-secrets-manager")
    reference = f"/aws/reference/secretsmanager/{name}"
    got = ssm.get_parameter(Name=reference, WithDecryption=True)["Parameter"]
    assert (got["Value"], got["Type"], got["Name"]) == ("from-secrets-manager", "SecureString", reference)
    assert json.loads(got["SourceResult"])["Name"] == name
    with pytest.raises(ClientError) as excinfo:
        ssm.get_parameter(Name=reference)
    assert error_of(excinfo)[0] == "ValidationException"


def test_aws_cli_get_parameters_by_path(server: Server, ssm: Any, tmp_path: Path) -> None:
    root = f"/{unique('cli')}"
    ssm.put_parameter(Name=f"{root}/db/user", Value="admin", Type="String")
    ssm.put_parameter(Name=f"{root}/db/password", Value="pw", Type="SecureString")
    env = server.client_env()
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    done = subprocess.run(
        [str(AWS), "ssm", "get-parameters-by-path", "--path", root, "--recursive", "--with-decryption"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    values = {p["Name"]: p["Value"] for p in json.loads(done.stdout)["Parameters"]}
    assert values == {f"{root}/db/user": "admin", f"{root}/db/password": "pw"}


READER = """
import boto3

def handler(event, context):
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=event["secret"])["SecretString"]
    parameter = boto3.client("ssm").get_parameter(Name=event["parameter"], WithDecryption=True)
    return {"secret": secret, "parameter": parameter["Parameter"]["Value"]}
"""


def test_a_function_reads_a_secret_and_a_secure_string_at_runtime(
    server: Server, ssm: Any, lambda_client: Any
) -> None:
    sm = server.client("secretsmanager")
    secret = unique("fn-secret")
    sm.create_secret(Name=secret, SecretString="secret-value")
    parameter = f"/{unique('fn')}/token"
    ssm.put_parameter(Name=parameter, Value="parameter-value", Type="SecureString")
    function = create_function(lambda_client, READER, Timeout=30)
    result = lambda_client.invoke(
        FunctionName=function, Payload=json.dumps({"secret": secret, "parameter": parameter})
    )
    assert "FunctionError" not in result, result["Payload"].read()
    assert json.loads(result["Payload"].read()) == {"secret": "secret-value", "parameter": "parameter-value"}
