"""Policy documents checked as IAM checks them before storing them, with IAM's wording.

Identity-based policies (inline and managed policies: no Principal, Resource required), trust policies (a
role's AssumeRolePolicyDocument: Principal required, no Resource), STS session policies (identity-based
rules) and resource-based policies (the simulator's: Principal and Resource). Sizes are counted as IAM counts them, without whitespace.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from lambdabox.errors import AwsError

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_STATEMENT = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
_PRINCIPAL_KINDS = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})


class Kind(enum.Enum):
    IDENTITY = "identity"
    TRUST = "trust"
    SESSION = "session"
    RESOURCE = "resource"  # a resource-based policy (the simulator's ResourcePolicy): Principal and Resource


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message, 400)


def size(text: str) -> int:
    """A document's size as IAM's quotas count it: characters other than whitespace."""
    return sum(1 for char in text if not char.isspace())


def encoded(text: str) -> str:
    """A document as IAM returns it in Get* responses: URL-encoded, as the caller sent it."""
    return quote(text, safe="-_.!~*'()")


def validate(text: str, kind: Kind, principal_exists: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """The parsed document, or MalformedPolicyDocument with IAM's message."""
    syntax = malformed("Syntax errors in policy.")
    try:
        parsed = json.loads(text)
    except ValueError:
        raise malformed("This policy contains invalid Json") from None
    if not isinstance(parsed, dict) or set(parsed) - _TOP_LEVEL:
        raise syntax
    version = parsed.get("Version")
    if version is not None and version not in VERSIONS:
        raise malformed("The policy failed legacy parsing")
    statements = parsed.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise syntax
    sids: set[str] = set()
    for statement in statements:
        _statement(statement, kind, syntax, principal_exists)
        sid = statement.get("Sid")
        if sid is not None:
            if sid in sids:
                raise malformed("Statement IDs (SID) in a single policy must be unique.")
            sids.add(sid)
    return parsed


def _statement(
    statement: Any, kind: Kind, syntax: AwsError, principal_exists: Callable[[str], bool] | None
) -> None:
    if not isinstance(statement, dict) or set(statement) - _STATEMENT:
        raise syntax
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise syntax
    sid = statement.get("Sid")
    if sid is not None and (not isinstance(sid, str) or (kind is not Kind.TRUST and not sid.isalnum())):
        raise malformed(
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
        )
    has_action, has_not_action = "Action" in statement, "NotAction" in statement
    if has_action == has_not_action:
        raise malformed("Policy statement must contain actions.")
    for action in _strings(statement.get("Action", statement.get("NotAction")), syntax):
        if action != "*" and ":" not in action:
            raise malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    has_resource = "Resource" in statement or "NotResource" in statement
    has_principal = "Principal" in statement or "NotPrincipal" in statement
    if kind in (Kind.TRUST, Kind.RESOURCE) and not has_principal:
        raise malformed(
            "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
            "The passed in policy has a statement with no principals!"
        )
    if kind is Kind.TRUST:
        if has_resource:
            raise malformed("Has prohibited field Resource")
        for action in _strings(statement.get("Action", statement.get("NotAction")), syntax):
            if action != "*" and not action.lower().startswith("sts:"):
                raise malformed("AssumeRole policy may only specify STS AssumeRole actions.")
        _principal(statement.get("Principal", statement.get("NotPrincipal")), syntax, principal_exists)
    else:
        if has_principal and kind is not Kind.RESOURCE:
            raise malformed("Policy document should not specify a principal.")
        if has_principal:
            _principal(statement.get("Principal", statement.get("NotPrincipal")), syntax, None)
        if not has_resource:
            raise malformed("Policy statement must contain resources.")
        if "Resource" in statement and "NotResource" in statement:
            raise syntax
        for resource in _strings(statement.get("Resource", statement.get("NotResource")), syntax):
            if resource != "*" and not resource.startswith("arn:"):
                raise malformed(f'Resource {resource} must be in ARN format or "*".')
    condition = statement.get("Condition")
    if condition is not None:
        if not isinstance(condition, dict):
            raise syntax
        for operator, keys in condition.items():
            if not isinstance(keys, dict) or not isinstance(operator, str):
                raise syntax
            for value in keys.values():
                if not isinstance(value, (str, bool, int, float, list)):
                    raise syntax


def _strings(value: Any, syntax: AwsError) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise syntax
    return items


def _principal(value: Any, syntax: AwsError, exists: Callable[[str], bool] | None) -> None:
    if value == "*":
        return
    if not isinstance(value, dict) or not value or set(value) - _PRINCIPAL_KINDS:
        raise syntax
    for kind, names in value.items():
        for name in _strings(names, syntax):
            if kind == "AWS" and name != "*":
                if not _aws_principal_ok(name, exists):
                    raise malformed(f'Invalid principal in policy: "AWS":"{name}"')
            elif kind == "Service" and not name:
                raise malformed(f'Invalid principal in policy: "SERVICE":"{name}"')


def _aws_principal_ok(name: str, exists: Callable[[str], bool] | None) -> bool:
    if name.isdigit() and len(name) == 12:
        return True
    parts = name.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("iam", "sts"):
        return False
    if parts[5] == "root":
        return True
    return exists is None or exists(name)
