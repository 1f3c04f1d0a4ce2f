"""Function URLs in the core: ids, and the resource-policy decision a NONE URL needs."""

from __future__ import annotations

from typing import Any

from lambdabox.core.function_urls import new_url_id
from lambdabox.core.resource_policy import everyone_may

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
ACTION = "lambda:InvokeFunctionUrl"


def _statement(
    auth_type: str, principal: Any = "*", effect: str = "Allow", action: str = ACTION
) -> dict[str, Any]:
    return {
        "Sid": "s",
        "Effect": effect,
        "Principal": principal,
        "Action": action,
        "Resource": ARN,
        "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": auth_type}},
    }


def _none_url_open(statements: list[dict[str, Any]]) -> bool:
    return everyone_may(statements, ACTION, ARN, {"lambda:functionurlauthtype": ["NONE"]})


def test_none_urls_need_the_public_statement_for_none() -> None:
    assert _none_url_open([_statement("NONE")])
    assert not _none_url_open([_statement("AWS_IAM")])
    assert not _none_url_open([])
    assert not _none_url_open([_statement("NONE", action="lambda:InvokeFunction")])
    assert not _none_url_open([_statement("NONE", {"AWS": "arn:aws:iam::000000000000:root"})])
    assert not _none_url_open([_statement("NONE"), _statement("NONE", effect="Deny")])


def test_url_ids() -> None:
    ids = {new_url_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 32 and i.isalnum() and i == i.lower() for i in ids)
