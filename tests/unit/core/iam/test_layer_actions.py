"""Layer operations → IAM actions on the layer or layer version; functions' layers are read with them."""

from __future__ import annotations

from typing import Any

import pytest

from lambdabox.core.iam.actions import lambda_checks
from lambdabox.core.names import Account

ACCOUNT = Account("123456789012", "eu-west-1")
LAYER = "arn:aws:lambda:eu-west-1:123456789012:layer:deps"


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("PublishLayerVersion", {"LayerName": "deps"}, ("lambda:PublishLayerVersion", LAYER)),
        ("PublishLayerVersion", {"LayerName": LAYER}, ("lambda:PublishLayerVersion", LAYER)),
        (
            "GetLayerVersion",
            {"LayerName": "deps", "VersionNumber": 2},
            ("lambda:GetLayerVersion", LAYER + ":2"),
        ),
        ("GetLayerVersionByArn", {"Arn": LAYER + ":3"}, ("lambda:GetLayerVersion", LAYER + ":3")),
        (
            "DeleteLayerVersion",
            {"LayerName": "deps", "VersionNumber": 1},
            ("lambda:DeleteLayerVersion", LAYER + ":1"),
        ),
        (
            "AddLayerVersionPermission",
            {"LayerName": "deps", "VersionNumber": 1, "StatementId": "s"},
            ("lambda:AddLayerVersionPermission", LAYER + ":1"),
        ),
        (
            "RemoveLayerVersionPermission",
            {"LayerName": "deps", "VersionNumber": 1, "StatementId": "s"},
            ("lambda:RemoveLayerVersionPermission", LAYER + ":1"),
        ),
        (
            "GetLayerVersionPolicy",
            {"LayerName": "deps", "VersionNumber": 1},
            ("lambda:GetLayerVersionPolicy", LAYER + ":1"),
        ),
        ("ListLayers", {}, ("lambda:ListLayers", "*")),
        ("ListLayerVersions", {"LayerName": "deps"}, ("lambda:ListLayerVersions", "*")),
    ],
)
def test_layer_operations(operation: str, params: dict[str, Any], expected: tuple[str, str]) -> None:
    (check,) = lambda_checks(ACCOUNT, operation, params)
    assert (check.action, check.resource) == expected


def test_a_function_reads_the_layers_it_uses() -> None:
    checks = lambda_checks(
        ACCOUNT, "UpdateFunctionConfiguration", {"FunctionName": "f", "Layers": [LAYER + ":1", LAYER + "x:4"]}
    )
    assert checks[0].keys["lambda:layer"] == [LAYER + ":1", LAYER + "x:4"]
    assert [(c.action, c.resource) for c in checks[1:]] == [
        ("lambda:GetLayerVersion", LAYER + ":1"),
        ("lambda:GetLayerVersion", LAYER + "x:4"),
    ]
