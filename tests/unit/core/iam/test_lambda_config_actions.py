"""Code signing, runtime management and recursion operations → IAM actions and resources."""

from __future__ import annotations

from lambdabox.core.iam.actions import lambda_checks
from lambdabox.core.names import Account

ACCOUNT = Account("123456789012", "eu-west-1")
CSC = "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0"
FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:f"


def _pairs(operation: str, params: dict[str, str]) -> list[tuple[str, str]]:
    return [(check.action, check.resource) for check in lambda_checks(ACCOUNT, operation, params)]


def test_configuration_operations_are_on_the_configuration() -> None:
    assert _pairs("CreateCodeSigningConfig", {}) == [("lambda:CreateCodeSigningConfig", "*")]
    assert _pairs("ListCodeSigningConfigs", {}) == [("lambda:ListCodeSigningConfigs", "*")]
    for operation in (
        "GetCodeSigningConfig",
        "UpdateCodeSigningConfig",
        "DeleteCodeSigningConfig",
        "ListFunctionsByCodeSigningConfig",
    ):
        assert _pairs(operation, {"CodeSigningConfigArn": CSC}) == [(f"lambda:{operation}", CSC)]


def test_put_function_code_signing_config_needs_both_resources() -> None:
    checks = lambda_checks(
        ACCOUNT, "PutFunctionCodeSigningConfig", {"FunctionName": "f:1", "CodeSigningConfigArn": CSC}
    )
    assert [(c.action, c.resource) for c in checks] == [
        ("lambda:PutFunctionCodeSigningConfig", FUNCTION),
        ("lambda:PutFunctionCodeSigningConfig", CSC),
    ]
    assert checks[0].keys["lambda:codesigningconfigarn"] == [CSC]


def test_create_function_names_its_code_signing_config() -> None:
    checks = lambda_checks(ACCOUNT, "CreateFunction", {"FunctionName": "f", "CodeSigningConfigArn": CSC})
    assert checks[0].keys["lambda:codesigningconfigarn"] == [CSC]


def test_function_settings_are_on_the_function() -> None:
    assert _pairs("PutRuntimeManagementConfig", {"FunctionName": "f", "Qualifier": "3"}) == [
        ("lambda:PutRuntimeManagementConfig", f"{FUNCTION}:3")
    ]
    assert _pairs("GetFunctionRecursionConfig", {"FunctionName": "f"}) == [
        ("lambda:GetFunctionRecursionConfig", FUNCTION)
    ]
    assert _pairs("GetFunctionCodeSigningConfig", {"FunctionName": "f"}) == [
        ("lambda:GetFunctionCodeSigningConfig", FUNCTION)
    ]
