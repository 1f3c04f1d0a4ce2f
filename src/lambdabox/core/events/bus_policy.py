"""An event bus's resource-based policy as PutPermission and RemovePermission edit it: one statement per
StatementId (`events:PutEvents` for an account, or for everyone in an organization), or a whole policy
given at once. The policy takes part in the IAM check of PutEvents on that bus."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from lambdabox.core.events.names import invalid
from lambdabox.errors import AwsError

VERSION = "2012-10-17"


def with_policy(text: str) -> str:
    """A whole policy (PutPermission's `Policy`): a JSON object with statements, kept as given."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise invalid("This policy contains invalid Json") from None
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list | dict):
        raise invalid("This policy contains invalid Json")
    return text


def with_statement(
    current: str | None,
    bus_arn: str,
    action: str | None,
    principal: str | None,
    statement_id: str | None,
    condition: Mapping[str, str] | None,
) -> str:
    """`current` with the statement of `statement_id` added (or replaced)."""
    if principal is None:
        raise invalid("Parameter Principal must be specified.")
    if statement_id is None:
        raise invalid("Parameter StatementId must be specified.")
    if action != "events:PutEvents":
        raise invalid("Provided value in parameter 'action' is not supported.")
    statement: dict[str, Any] = {
        "Sid": statement_id,
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
        "Action": action,
        "Resource": bus_arn,
    }
    if condition is not None:
        if principal != "*":
            raise AwsError(
                "InvalidParameterValue",
                "Value of the parameter 'principal' must be '*' when the parameter 'condition' is set.",
            )
        if condition["Type"] != "StringEquals" or condition["Key"] != "aws:PrincipalOrgID":
            raise invalid(
                "Only the condition type StringEquals with the key aws:PrincipalOrgID is supported."
            )
        statement["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
    others = [s for s in _statements(current) if s.get("Sid") != statement_id]
    return _policy([*others, statement])


def without_statement(current: str | None, statement_id: str | None) -> str | None:
    """`current` without the statement of `statement_id` (None once no statement is left)."""
    if current is None:
        raise AwsError("ResourceNotFoundException", "EventBus does not have a policy.")
    if statement_id is None:
        raise invalid("Parameter StatementId must be specified.")
    statements = _statements(current)
    left = [s for s in statements if s.get("Sid") != statement_id]
    if len(left) == len(statements):
        raise AwsError("ResourceNotFoundException", "Statement with the provided id does not exist.")
    return _policy(left) if left else None


def _statements(policy: str | None) -> list[dict[str, Any]]:
    if policy is None:
        return []
    found = orjson.loads(policy).get("Statement", [])
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def _policy(statements: list[dict[str, Any]]) -> str:
    return orjson.dumps({"Version": VERSION, "Statement": statements}).decode()
