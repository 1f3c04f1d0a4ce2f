"""May an AWS service invoke a function? Evaluates the function's resource-policy statements for a service
principal and a source ARN, as Lambda does when S3, EventBridge and other push sources invoke it."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.names import Account, FunctionRef
from lambdabox.errors import AwsError

_INVOKE_ACTIONS = ("lambda:InvokeFunction", "lambda:*", "*")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows(statement: Mapping[str, Any], principal: str, source_arn: str, source_account: str) -> bool:
    """Does one statement let service `principal` invoke the function for events of `source_arn`?"""
    if statement.get("Effect") != "Allow":
        return False
    granted = statement.get("Principal")
    if isinstance(granted, dict):
        if principal not in _as_list(granted.get("Service", [])):
            return False
    elif granted != "*":
        return False
    if not any(action in _INVOKE_ACTIONS for action in _as_list(statement.get("Action"))):
        return False
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
    for operator, entries in (statement.get("Condition") or {}).items():
        for key, expected in entries.items():
            actual = context.get(key.lower())
            if actual is None:
                return False
            patterns = [str(item) for item in _as_list(expected)]
            if operator in ("ArnLike", "StringLike"):
                if not any(fnmatchcase(actual, pattern) for pattern in patterns):
                    return False
            elif operator in ("ArnEquals", "StringEquals"):
                if actual not in patterns:
                    return False
            else:
                return False
    return True


def invocation_allowed(
    settings: FunctionSettings, account: Account, ref: FunctionRef, principal: str, source_arn: str
) -> bool:
    """Does the policy of the function (or of the qualifier `ref` names) allow `principal` for `source_arn`?
    A function that does not exist allows nothing."""
    try:
        statements = settings.statements(ref.name, ref.qualifier)
    except AwsError:
        return False
    return any(allows(statement, principal, source_arn, account.account_id) for statement in statements)
