"""Configuration-only Lambda operations through boto3: code signing configurations (and the Enforce/Warn
check on deployments), runtime management, recursive-loop detection."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server, aws_error, create_function, make_zip, python_zip

ACCOUNT = "000000000000"

PROFILE = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/lambdabox/AbCdEf1234"
OTHER_PROFILE = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/other/ZyXwVu9876"
CSC_ARN = re.compile(rf"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:(csc-[0-9a-f]{{17}})")
RUNTIME_VERSION = "arn:aws:lambda:us-east-1::runtime:0123456789abcdef0123456789abcdef0123456789abcdef"


def _csc(client: Any, policy: str | None = None, **kwargs: Any) -> str:
    if policy is not None:
        kwargs["CodeSigningPolicies"] = {"UntrustedArtifactOnDeployment": policy}
    created = client.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [PROFILE]}, **kwargs
    )
    return str(created["CodeSigningConfig"]["CodeSigningConfigArn"])


def _missing_csc(arn: str) -> str:
    return arn[:-17] + "0" * 17


# -- code signing configurations ---------------------------------------------------------------------------


def test_code_signing_config_lifecycle(lambda_client: Any) -> None:
    created = lambda_client.create_code_signing_config(
        Description="signed builds only",
        AllowedPublishers={"SigningProfileVersionArns": [PROFILE]},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    config = created["CodeSigningConfig"]
    match = CSC_ARN.fullmatch(config["CodeSigningConfigArn"])
    assert match is not None and match.group(1) == config["CodeSigningConfigId"]
    assert config["AllowedPublishers"] == {"SigningProfileVersionArns": [PROFILE]}
    assert config["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}  # the default
    assert config["Description"] == "signed builds only"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", config["LastModified"])
    arn = config["CodeSigningConfigArn"]

    assert lambda_client.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"] == config

    updated = lambda_client.update_code_signing_config(
        CodeSigningConfigArn=arn,
        AllowedPublishers={"SigningProfileVersionArns": [PROFILE, OTHER_PROFILE]},
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"},
    )["CodeSigningConfig"]
    assert updated["AllowedPublishers"]["SigningProfileVersionArns"] == [PROFILE, OTHER_PROFILE]
    assert updated["CodeSigningPolicies"]["UntrustedArtifactOnDeployment"] == "Enforce"
    assert updated["Description"] == "signed builds only"  # members not given are kept

    listed = lambda_client.list_code_signing_configs()["CodeSigningConfigs"]
    assert updated in listed
    pages = lambda_client.get_paginator("list_code_signing_configs").paginate(
        PaginationConfig={"PageSize": 1}
    )
    assert updated in [c for page in pages for c in page["CodeSigningConfigs"]]

    # Tags, as Terraform reads and writes them on aws_lambda_code_signing_config.
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {}
    lambda_client.tag_resource(Resource=arn, Tags={"team": "a", "env": "dev"})
    lambda_client.untag_resource(Resource=arn, TagKeys=["env"])
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    tagged = _csc(lambda_client, Tags={"owner": "me"})
    assert lambda_client.list_tags(Resource=tagged)["Tags"] == {"owner": "me"}
    lambda_client.delete_code_signing_config(CodeSigningConfigArn=tagged)

    deleted = lambda_client.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_code_signing_config(CodeSigningConfigArn=arn)
    assert aws_error(excinfo) == (
        "ResourceNotFoundException",
        f"The Lambda code signing configuration {arn} can not be found.",
        404,
    )
    for call in (
        lambda_client.delete_code_signing_config,
        lambda_client.list_functions_by_code_signing_config,
    ):
        with pytest.raises(ClientError) as excinfo:
            call(CodeSigningConfigArn=arn)
        assert aws_error(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_code_signing_config(CodeSigningConfigArn=arn, Description="x")
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.list_tags(Resource=arn)
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"


def test_code_signing_config_validation(server: Server, lambda_client: Any) -> None:
    unchecked = server.client("lambda", parameter_validation=False)
    cases: list[dict[str, Any]] = [
        {"AllowedPublishers": {"SigningProfileVersionArns": []}},
        {"AllowedPublishers": {"SigningProfileVersionArns": [PROFILE] * 2}},
        {
            "AllowedPublishers": {
                "SigningProfileVersionArns": ["arn:aws:iam::000000000000:role/not-a-profile"]
            }
        },
        {"AllowedPublishers": {"SigningProfileVersionArns": [f"{PROFILE[:-10]}{i:010d}" for i in range(21)]}},
        {
            "AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]},
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Block"},
        },
    ]
    for kwargs in cases:
        with pytest.raises(ClientError) as excinfo:
            unchecked.create_code_signing_config(**kwargs)
        code, _, status = aws_error(excinfo)
        assert (code, status) in (("ValidationException", 400), ("InvalidParameterValueException", 400)), (
            kwargs
        )
    with pytest.raises(ClientError) as excinfo:
        unchecked.get_code_signing_config(CodeSigningConfigArn="arn:aws:lambda:us-east-1:000000000000:csc-1")
    assert aws_error(excinfo)[0] == "ValidationException"


def test_function_code_signing_config(lambda_client: Any, deploy: Callable[..., str]) -> None:
    name = deploy()
    unsigned = lambda_client.get_function_code_signing_config(FunctionName=name)
    assert unsigned["CodeSigningConfigArn"] == "" and unsigned["FunctionName"] == name

    arn = _csc(lambda_client)
    put = lambda_client.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=name)
    assert (put["CodeSigningConfigArn"], put["FunctionName"]) == (arn, name)
    by_arn = lambda_client.get_function_code_signing_config(
        FunctionName=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    )
    assert (by_arn["CodeSigningConfigArn"], by_arn["FunctionName"]) == (arn, name)
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert lambda_client.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [
        function_arn
    ]

    with pytest.raises(ClientError) as excinfo:
        lambda_client.delete_code_signing_config(CodeSigningConfigArn=arn)
    code, _, status = aws_error(excinfo)
    assert (code, status) == ("ResourceConflictException", 409)

    missing = _missing_csc(arn)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_code_signing_config(CodeSigningConfigArn=missing, FunctionName=name)
    assert aws_error(excinfo) == (
        "CodeSigningConfigNotFoundException",
        "The code signing configuration cannot be found. Check that the provided configuration is not deleted: "
        f"{missing}.",
        404,
    )
    for call in (
        lambda: lambda_client.get_function_code_signing_config(FunctionName="no-such-function"),
        lambda: lambda_client.put_function_code_signing_config(
            CodeSigningConfigArn=arn, FunctionName="no-such-function"
        ),
        lambda: lambda_client.delete_function_code_signing_config(FunctionName="no-such-function"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert aws_error(excinfo) == (
            "ResourceNotFoundException",
            f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:no-such-function",
            404,
        )

    assert (
        lambda_client.delete_function_code_signing_config(FunctionName=name)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    assert lambda_client.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == ""
    assert lambda_client.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []
    lambda_client.delete_code_signing_config(CodeSigningConfigArn=arn)  # no longer in use


def test_enforce_refuses_unsigned_code_and_warn_accepts_it(
    lambda_client: Any, deploy: Callable[..., str]
) -> None:
    enforce = _csc(lambda_client, "Enforce")
    warn = _csc(lambda_client, "Warn")
    name = f"csc-enforce-{enforce[-8:]}"
    with pytest.raises(ClientError) as excinfo:
        create_function(lambda_client, name=name, CodeSigningConfigArn=enforce)
    assert aws_error(excinfo) == (
        "CodeVerificationFailedException",
        "Lambda cannot deploy the function. The function or layer might be signed using a signature that the "
        f"client is not configured to accept. Check the provided signature for {name}.",
        400,
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function(FunctionName=name)
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"  # nothing was created
    with pytest.raises(ClientError) as excinfo:
        create_function(lambda_client, name=name, CodeSigningConfigArn=_missing_csc(enforce))
    assert aws_error(excinfo)[0] == "CodeSigningConfigNotFoundException"

    warned = create_function(lambda_client, CodeSigningConfigArn=warn)  # Warn: deployed, with a warning
    assert lambda_client.get_function_code_signing_config(FunctionName=warned)["CodeSigningConfigArn"] == warn
    configuration = lambda_client.get_function(FunctionName=warned)["Configuration"]
    assert "SigningProfileVersionArn" not in configuration  # the code is not signed
    lambda_client.update_function_code(
        FunctionName=warned, ZipFile=python_zip("def handler(e, c):\n    return 2\n")
    )
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=warned, WaiterConfig={"Delay": 1})
    assert lambda_client.invoke(FunctionName=warned)["Payload"].read() == b"2"

    # The function's configuration changes to Enforce: its next code upload is refused, old code still runs.
    lambda_client.put_function_code_signing_config(CodeSigningConfigArn=enforce, FunctionName=warned)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_code(
            FunctionName=warned, ZipFile=python_zip("def handler(e, c):\n    return 3\n")
        )
    assert aws_error(excinfo)[:1] == ("CodeVerificationFailedException",)
    assert lambda_client.invoke(FunctionName=warned)["Payload"].read() == b"2"
    layer = lambda_client.publish_layer_version(
        LayerName=f"csc-layer-{enforce[-8:]}", Content={"ZipFile": make_zip({"python/extra.py": "X = 1\n"})}
    )["LayerVersionArn"]
    with pytest.raises(ClientError) as excinfo:  # a layer is deployed code as well
        lambda_client.update_function_configuration(FunctionName=warned, Layers=[layer])
    code, message, _ = aws_error(excinfo)
    assert code == "CodeVerificationFailedException" and message.endswith(
        f"Check the provided signature for {layer}."
    )
    lambda_client.update_code_signing_config(
        CodeSigningConfigArn=enforce, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"}
    )
    lambda_client.update_function_code(
        FunctionName=warned, ZipFile=python_zip("def handler(e, c):\n    return 3\n")
    )

    # Deleting the function releases its configuration.
    lambda_client.delete_function(FunctionName=warned)
    assert (
        lambda_client.list_functions_by_code_signing_config(CodeSigningConfigArn=enforce)["FunctionArns"]
        == []
    )
    lambda_client.delete_code_signing_config(CodeSigningConfigArn=enforce)


# -- runtime management --------------------------------------------------------------------------------------


def test_runtime_management_config(server: Server, lambda_client: Any, deploy: Callable[..., str]) -> None:
    unchecked = server.client("lambda", parameter_validation=False)
    name = deploy()
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    default = lambda_client.get_runtime_management_config(FunctionName=name)
    assert default["UpdateRuntimeOn"] == "Auto" and default["FunctionArn"] == arn
    assert "RuntimeVersionArn" not in default

    put = lambda_client.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="FunctionUpdate")
    assert (put["UpdateRuntimeOn"], put["FunctionArn"]) == ("FunctionUpdate", arn)
    # Pinning the runtime version the function runs, as the console and CDK read it from the configuration.
    running = lambda_client.get_function_configuration(FunctionName=name)["RuntimeVersionConfig"][
        "RuntimeVersionArn"
    ]
    pinned = lambda_client.put_runtime_management_config(
        FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=running
    )
    assert pinned["RuntimeVersionArn"] == running
    got = lambda_client.get_runtime_management_config(FunctionName=name, Qualifier="$LATEST")
    assert got["FunctionArn"] == f"{arn}:$LATEST"
    assert (got["UpdateRuntimeOn"], got["RuntimeVersionArn"]) == ("Manual", running)

    version = lambda_client.publish_version(FunctionName=name)["Version"]
    assert (
        lambda_client.get_runtime_management_config(FunctionName=name, Qualifier=version)["UpdateRuntimeOn"]
        == "Auto"
    )  # per version
    lambda_client.put_runtime_management_config(
        FunctionName=f"{name}:{version}", UpdateRuntimeOn="FunctionUpdate"
    )
    assert (
        lambda_client.get_runtime_management_config(FunctionName=name, Qualifier=version)["FunctionArn"]
        == f"{arn}:{version}"
    )
    assert lambda_client.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "Manual"

    for kwargs, code in (
        ({"UpdateRuntimeOn": "Manual"}, "InvalidParameterValueException"),
        ({"UpdateRuntimeOn": "Auto", "RuntimeVersionArn": RUNTIME_VERSION}, "InvalidParameterValueException"),
        ({"UpdateRuntimeOn": "Sometimes"}, "ValidationException"),
        (
            {"UpdateRuntimeOn": "Manual", "RuntimeVersionArn": "arn:aws:lambda:us-east-1::function:xyz"},
            "ValidationException",
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            unchecked.put_runtime_management_config(FunctionName=name, **kwargs)
        assert aws_error(excinfo)[0] == code, kwargs
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_runtime_management_config(FunctionName=name, Qualifier="42")
    assert aws_error(excinfo) == ("ResourceNotFoundException", f"Function not found: {arn}:42", 404)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_runtime_management_config(FunctionName="no-such-function", UpdateRuntimeOn="Auto")
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"


# -- recursion ---------------------------------------------------------------------------------------------


def test_function_recursion_config(server: Server, lambda_client: Any, deploy: Callable[..., str]) -> None:
    unchecked = server.client("lambda", parameter_validation=False)
    name = deploy()
    assert lambda_client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    assert (
        lambda_client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")["RecursiveLoop"]
        == "Allow"
    )
    assert lambda_client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    with pytest.raises(ClientError) as excinfo:
        unchecked.put_function_recursion_config(FunctionName=name, RecursiveLoop="Sometimes")
    assert aws_error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_recursion_config(FunctionName="no-such-function")
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"

    # A function created again under the same name starts from the defaults.
    lambda_client.delete_function(FunctionName=name)
    create_function(lambda_client, name=name)
    assert lambda_client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"


# -- durability and infrastructure tools ---------------------------------------------------------------------


def test_configs_survive_a_restart(server_factory: Callable[..., Server]) -> None:
    own = server_factory()
    client = own.client()
    name = create_function(client)
    arn = _csc(client, "Warn", Description="kept")
    client.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=name)
    client.put_runtime_management_config(
        FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=RUNTIME_VERSION
    )
    client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    enforce = _csc(client, "Enforce")
    own.stop()
    own.start()
    client = own.client()
    assert (
        client.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"]["Description"] == "kept"
    )
    assert client.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == arn
    assert client.get_runtime_management_config(FunctionName=name)["RuntimeVersionArn"] == RUNTIME_VERSION
    assert client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    assert [c["CodeSigningConfigArn"] for c in client.list_code_signing_configs()["CodeSigningConfigs"]] == [
        arn,
        enforce,
    ]


def test_terraform_refresh_calls_answer(lambda_client: Any, deploy: Callable[..., str]) -> None:
    """What `aws_lambda_function` reads on every refresh (provider v5): each call answers."""
    name = deploy()
    function = lambda_client.get_function(FunctionName=name)
    assert function["Configuration"]["FunctionName"] == name
    signing = lambda_client.get_function_code_signing_config(FunctionName=name)
    assert signing["CodeSigningConfigArn"] == ""
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_policy(FunctionName=name)
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"  # the provider treats this as "no policy"
    assert (
        lambda_client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    )
    assert lambda_client.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "Auto"
    assert lambda_client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    assert lambda_client.list_tags(Resource=function["Configuration"]["FunctionArn"])["Tags"] == {}
