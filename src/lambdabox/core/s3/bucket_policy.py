"""Bucket policies: validated as S3 validates them (`MalformedPolicy` with S3's wording), stored as sent.

Enforcement belongs to IAM policy evaluation (`core/iam/authorizer.py` reads the stored text);
`is_public` answers GetBucketPolicyStatus the simple way: an Allow statement for every principal without
a condition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from lambdabox.errors import AwsError

MAX_POLICY_BYTES = 20480
VERSIONS = ("2012-10-17", "2008-10-17")
_POLICY_FIELDS = ("Version", "Id", "Statement")
_STATEMENT_FIELDS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_PRINCIPAL_TYPES = ("AWS", "CanonicalUser", "Service", "Federated")
_PARTITION = r"aws|aws-cn|aws-us-gov"
_AWS_PRINCIPAL = re.compile(rf"\*|\d{{12}}|arn:(?:{_PARTITION}):(?:iam|sts)::\d{{12}}:.+")
_ACTION = re.compile(r"\*|[sS]3:[A-Za-z0-9*?]+")
NOT_JSON = "Policies must be valid JSON and the first byte must be '{'"
SYNTAX = "Invalid policy syntax."


def malformed_policy(message: str) -> AwsError:
    return AwsError("MalformedPolicy", message, 400)


def check_policy(text: str, bucket: str) -> dict[str, Any]:
    """The parsed policy, or MalformedPolicy."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise malformed_policy("Policy exceeds the maximum allowed document size.")
    try:
        document = orjson.loads(text.strip(" \t\r\n"))
    except orjson.JSONDecodeError:
        raise malformed_policy(NOT_JSON) from None
    if not isinstance(document, dict) or not text.lstrip(" \t\r\n").startswith("{"):
        raise malformed_policy(NOT_JSON)
    _known_fields(document, _POLICY_FIELDS)
    if "Version" in document and document["Version"] not in VERSIONS:
        raise malformed_policy("The policy must contain a valid version string")
    if "Id" in document and not isinstance(document["Id"], str):
        raise malformed_policy(SYNTAX)
    if "Statement" not in document:
        raise malformed_policy("Missing required field Statement")
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise malformed_policy(SYNTAX)
    if not statements:
        raise malformed_policy("Could not parse the policy: Statement is empty!")
    for statement in statements:
        _check_statement(statement, bucket)
    return document


def _known_fields(document: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for name in document:
        if name not in known:
            raise malformed_policy(f"Unknown field {name}")


def _one_of(statement: Mapping[str, Any], name: str) -> Any:
    """The value of `name` or `Not<name>` (exactly one of them must be there)."""
    if name in statement and f"Not{name}" in statement:
        raise malformed_policy(f"Statement/policy already has instance of {name}")
    if name not in statement and f"Not{name}" not in statement:
        raise malformed_policy(f"Missing required field {name}")
    return statement.get(name, statement.get(f"Not{name}"))


def _strings(value: Any, name: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise malformed_policy(f"Missing required field {name} cannot be empty!")
    if not all(isinstance(item, str) for item in values):
        raise malformed_policy(SYNTAX)
    return values


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode() if not isinstance(value, str) else value


def _check_statement(statement: Any, bucket: str) -> None:
    if not isinstance(statement, dict):
        raise malformed_policy(SYNTAX)
    _known_fields(statement, _STATEMENT_FIELDS)
    if "Sid" in statement and not isinstance(statement["Sid"], str):
        raise malformed_policy(SYNTAX)
    if "Effect" not in statement:
        raise malformed_policy("Missing required field Effect")
    if statement["Effect"] not in ("Allow", "Deny"):
        raise malformed_policy(f"Invalid effect: {_json_text(statement['Effect'])}")
    principal = _one_of(statement, "Principal")
    actions = _strings(_one_of(statement, "Action"), "Action")
    resources = _strings(_one_of(statement, "Resource"), "Resource")
    if "Condition" in statement:
        _check_condition(statement["Condition"])
    if not _valid_principal(principal):
        raise malformed_policy("Invalid principal in policy")
    if not all(_ACTION.fullmatch(action) for action in actions):
        raise malformed_policy("Policy has invalid action")
    resource = re.compile(rf"arn:(?:{_PARTITION}):s3:::{re.escape(bucket)}(?:/.*)?", re.DOTALL)
    if not all(resource.fullmatch(item) for item in resources):
        raise malformed_policy("Policy has invalid resource")


def _check_condition(condition: Any) -> None:
    if not isinstance(condition, dict):
        raise malformed_policy(SYNTAX)
    for keys in condition.values():
        if not isinstance(keys, dict):
            raise malformed_policy(SYNTAX)
        for value in keys.values():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(item, (str, int, float, bool)) for item in values):
                raise malformed_policy(SYNTAX)


def _valid_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict) or not principal:
        return False
    for kind, value in principal.items():
        if kind not in _PRINCIPAL_TYPES:
            return False
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str) and item for item in values):
            return False
        if kind == "AWS" and not all(_AWS_PRINCIPAL.fullmatch(item) for item in values):
            return False
    return True


def is_public(text: str) -> bool:
    """An Allow statement for everyone (`*`, or AWS `*`) without a condition makes a bucket public."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements or []:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow" or "Condition" in statement:
            continue
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else None
        if principal == "*" or aws == "*" or (isinstance(aws, list) and "*" in aws):
            return True
    return False
