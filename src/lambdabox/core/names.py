"""Function names, qualifiers and ARNs in every form the Lambda API accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdabox.core.models import LATEST
from lambdabox.errors import AwsError

_FUNCTION_REF = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:(?P<region>[a-z0-9-]+):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?"
)
VERSION_PATTERN = re.compile(r"\d+")


@dataclass(frozen=True)
class Account:
    account_id: str
    region: str

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        return f"{arn}:{qualifier}" if qualifier else arn


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None


def parse_function_ref(account: Account, text: str, qualifier: str | None = None) -> FunctionRef:
    """Accept `name`, `name:qual`, `acct:function:name[:qual]` and full ARNs; reconcile `Qualifier`."""
    match = _FUNCTION_REF.fullmatch(text)
    if match is None:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {_FUNCTION_REF.pattern}",
        )
    region = match.group("region")
    if region is not None and region != account.region:
        raise AwsError(
            "ResourceNotFoundException",
            f"Functions from '{region}' are not reachable in this region ('{account.region}')",
            404,
        )
    acct = match.group("account")
    if acct is not None and acct != account.account_id:
        raise AwsError(
            "AccessDeniedException",
            f"The account {acct} is not the caller's account {account.account_id}.",
            403,
        )
    name = match.group("name")
    if len(name) > 64:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: "
            "Member must have length less than or equal to 64",
        )
    derived = match.group("qualifier")
    if derived is not None and qualifier is not None and derived != qualifier:
        raise AwsError(
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    return FunctionRef(name=name, qualifier=derived if derived is not None else qualifier)


def is_version(qualifier: str) -> bool:
    return qualifier == LATEST or VERSION_PATTERN.fullmatch(qualifier) is not None
