"""The Lambda control API through real boto3 clients: shapes, validation, versions, aliases, settings."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, Server, aws_error, create_function, python_zip, unique


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    code, message, status = aws_error(excinfo)
    return code, status, message


def test_create_returns_pending_then_waiter_sees_active(lambda_client: Any) -> None:
    name = unique()
    code = python_zip("def handler(event, context):\n    return 1\n")
    created = lambda_client.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE, Code={"ZipFile": code}
    )
    assert created["State"] == "Pending"
    assert created["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in created
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert created["CodeSize"] == len(code)
    assert created["Timeout"] == 3 and created["MemorySize"] == 128
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert created["Version"] == "$LATEST"
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    got = lambda_client.get_function(FunctionName=name)
    assert got["Configuration"]["State"] == "Active"
    assert got["Code"]["RepositoryType"] == "S3"


def test_duplicate_create_is_a_conflict(lambda_client: Any, deploy: Any) -> None:
    name = deploy()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Handler="app.handler",
            Role=ROLE,
            Code={"ZipFile": python_zip("")},
        )
    assert error_of(excinfo)[:2] == ("ResourceConflictException", 409)


def test_unknown_function_is_not_found(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function(FunctionName="does-not-exist")
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert (
        message == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:does-not-exist:$LATEST"
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke(FunctionName="does-not-exist")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    ("changes", "code", "fragment"),
    [
        ({"MemorySize": 20000}, "ValidationException", "Member must have value less than or equal to 10240"),
        ({"Timeout": 901}, "ValidationException", "Member must have value less than or equal to 900"),
        ({"EphemeralStorage": {"Size": 20000}}, "ValidationException", "less than or equal to 10240"),
        ({"Runtime": "python9.9"}, "InvalidParameterValueException", "Member must satisfy enum value set"),
        ({"Runtime": "python2.7"}, "InvalidParameterValueException", "is no longer supported"),
        ({"Handler": "has space"}, "ValidationException", "regular expression pattern"),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
            "InvalidParameterValueException",
            "reserved keys",
        ),
        (
            {"Environment": {"Variables": {"BIG": "x" * 5000}}},
            "InvalidParameterValueException",
            "exceeded the 4KB limit",
        ),
        ({"Role": "not-a-role"}, "ValidationException", "'role' failed to satisfy constraint"),
        ({"FunctionName": "bad name!"}, "ValidationException", "'functionName' failed to satisfy constraint"),
    ],
)
def test_create_validation(lambda_client: Any, changes: dict[str, Any], code: str, fragment: str) -> None:
    name = unique()
    request: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Role": ROLE,
        "Code": {"ZipFile": python_zip("")},
    }
    request.update(changes)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function(**request)
    got_code, status, message = error_of(excinfo)
    assert (got_code, status) == (code, 400)
    assert fragment in message
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    with pytest.raises(ClientError):  # nothing half-created
        lambda_client.get_function(FunctionName=request["FunctionName"])


def test_corrupt_and_oversize_zips_are_refused(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function(
            FunctionName=unique(),
            Runtime="python3.12",
            Handler="app.handler",
            Role=ROLE,
            Code={"ZipFile": b"PK\x03\x04junk"},
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Could not unzip uploaded file.")
    name = unique()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Handler="app.handler",
            Role=ROLE,
            Code={"ZipFile": b"x" * (52_428_800 + 1)},
        )
    assert error_of(excinfo)[:2] == ("RequestEntityTooLargeException", 413)


def test_update_configuration_and_code(lambda_client: Any, deploy: Any) -> None:
    name = deploy("def handler(event, context):\n    return 'v1'\n")
    updated = lambda_client.update_function_configuration(
        FunctionName=name,
        MemorySize=256,
        Timeout=10,
        Environment={"Variables": {"GREETING": "1"}},
        Description="d",
    )
    assert updated["LastUpdateStatus"] == "InProgress"
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert (config["MemorySize"], config["Timeout"], config["Description"]) == (256, 10, "d")
    assert config["Environment"] == {"Variables": {"GREETING": "1"}}
    assert config["LastUpdateStatus"] == "Successful"
    new_code = python_zip("def handler(event, context):\n    return 'v2'\n")
    updated = lambda_client.update_function_code(FunctionName=name, ZipFile=new_code)
    assert updated["CodeSha256"] == base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})


def test_revision_id_precondition(lambda_client: Any, deploy: Any) -> None:
    name = deploy()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_configuration(FunctionName=name, Timeout=5, RevisionId="stale")
    assert error_of(excinfo)[:2] == ("PreconditionFailedException", 412)


def test_list_functions_paginates(lambda_client: Any, deploy: Any) -> None:
    names = {deploy() for _ in range(3)}
    seen: set[str] = set()
    pages = 0
    for page in lambda_client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
        pages += 1
        for function in page["Functions"]:
            assert "State" not in function
            seen.add(function["FunctionName"])
    assert names <= seen
    assert pages >= 2


def test_versions_and_aliases(lambda_client: Any, deploy: Any) -> None:
    name = deploy()
    v1 = lambda_client.publish_version(FunctionName=name, Description="first")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"].endswith(f"{name}:1")
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "1"  # nothing changed
    lambda_client.update_function_configuration(FunctionName=name, Timeout=7)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    v2 = lambda_client.publish_version(FunctionName=name)
    assert v2["Version"] == "2"
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.publish_version(FunctionName=name, CodeSha256="wrong")
    assert error_of(excinfo)[0] == "InvalidParameterValueException"

    alias = lambda_client.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    assert alias["AliasArn"].endswith(f"{name}:live")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert error_of(excinfo)[:2] == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_alias(FunctionName=name, Name="123", FunctionVersion="1")
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_alias(
            FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}}
        )
    assert "already included in routing configuration" in error_of(excinfo)[2]
    updated = lambda_client.update_alias(
        FunctionName=name, Name="live", FunctionVersion="2", RoutingConfig={}
    )
    assert updated["FunctionVersion"] == "2" and "RoutingConfig" not in updated
    by_alias = lambda_client.get_function_configuration(FunctionName=name, Qualifier="live")
    assert by_alias["FunctionArn"].endswith(":live") and by_alias["Version"] == "2"
    assert [a["Name"] for a in lambda_client.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert "$LATEST version cannot be deleted" in error_of(excinfo)[2]
    lambda_client.delete_alias(FunctionName=name, Name="live")
    lambda_client.delete_function(FunctionName=name, Qualifier="1")
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "2"]
    lambda_client.update_function_configuration(FunctionName=name, Timeout=8)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "3"  # numbers never reused


def test_permissions_tags_concurrency_event_invoke_config(lambda_client: Any, deploy: Any) -> None:
    name = deploy()
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    statement = lambda_client.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
        SourceAccount="000000000000",
    )["Statement"]
    assert json.loads(statement) == {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "000000000000"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
        },
    }
    policy = json.loads(lambda_client.get_policy(FunctionName=name)["Policy"])
    assert policy["Version"] == "2012-10-17" and len(policy["Statement"]) == 1
    with pytest.raises(ClientError) as excinfo:
        lambda_client.add_permission(
            FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com"
        )
    assert error_of(excinfo)[:2] == ("ResourceConflictException", 409)
    lambda_client.remove_permission(FunctionName=name, StatementId="s3")
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_policy(FunctionName=name)
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)

    lambda_client.tag_resource(Resource=arn, Tags={"team": "a", "env": "dev"})
    lambda_client.untag_resource(Resource=arn, TagKeys=["env"])
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    assert lambda_client.get_function(FunctionName=name)["Tags"] == {"team": "a"}

    assert (
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)[
            "ReservedConcurrentExecutions"
        ]
        == 5
    )
    assert lambda_client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=950)
    assert "below its minimum value of [100]" in error_of(excinfo)[2]
    settings = lambda_client.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] <= 995
    lambda_client.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lambda_client.get_function_concurrency(FunctionName=name)

    config = lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert config["FunctionArn"] == f"{arn}:$LATEST"
    assert config["MaximumRetryAttempts"] == 1
    assert config["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    merged = lambda_client.update_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=120
    )
    assert (merged["MaximumRetryAttempts"], merged["MaximumEventAgeInSeconds"]) == (1, 120)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=3)
    assert error_of(excinfo)[0] == "ValidationException"
    listed = lambda_client.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert len(listed) == 1
    lambda_client.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_event_invoke_config(FunctionName=name)
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_qualified_names_and_arns(lambda_client: Any, deploy: Any) -> None:
    name = deploy()
    lambda_client.publish_version(FunctionName=name)
    for form in (
        f"{name}:1",
        f"000000000000:function:{name}:1",
        f"arn:aws:lambda:us-east-1:000000000000:function:{name}:1",
    ):
        assert lambda_client.get_function_configuration(FunctionName=form)["Version"] == "1"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_configuration(FunctionName=f"{name}:1", Qualifier="2")
    assert "does not match the specified qualifier" in error_of(excinfo)[2]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function(FunctionName=f"arn:aws:lambda:eu-west-1:000000000000:function:{name}")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_unimplemented_operation_answers_cleanly(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.list_event_source_mappings()
    code, status, message = error_of(excinfo)
    assert (code, status) == ("NotImplementedException", 501)
    assert "ListEventSourceMappings" in message


def test_delete_function(lambda_client: Any, deploy: Any) -> None:
    name = deploy()
    response = lambda_client.delete_function(FunctionName=name)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function(FunctionName=name)
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_functions_survive_restart(server_factory: Any) -> None:
    server: Server = server_factory()
    client = server.client()
    name = create_function(client, "def handler(e, c):\n    return 'ok'\n")
    client.publish_version(FunctionName=name)
    server.stop()
    server.start()
    client = server.client()
    assert client.get_function(FunctionName=name)["Configuration"]["State"] == "Active"
    assert client.get_function_configuration(FunctionName=name, Qualifier="1")["Version"] == "1"


def test_code_from_s3(server: Server, lambda_client: Any) -> None:
    s3 = server.client("s3")
    bucket = unique("code")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="pkg/fn.zip", Body=python_zip("def handler(e, c):\n    return 's3'\n"))
    name = unique()
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Handler="app.handler",
        Role=ROLE,
        Code={"S3Bucket": bucket, "S3Key": "pkg/fn.zip"},
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert json.loads(lambda_client.invoke(FunctionName=name)["Payload"].read()) == "s3"
    s3.put_object(Bucket=bucket, Key="pkg/v2.zip", Body=python_zip("def handler(e, c):\n    return 'v2'\n"))
    lambda_client.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="pkg/v2.zip")
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert json.loads(lambda_client.invoke(FunctionName=name)["Payload"].read()) == "v2"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function(
            FunctionName=unique(),
            Runtime="python3.12",
            Handler="app.handler",
            Role=ROLE,
            Code={"S3Bucket": bucket, "S3Key": "missing.zip"},
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Error occurred while GetObject. S3 Error Code: NoSuchKey.")
