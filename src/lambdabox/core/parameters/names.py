"""Parameter names, hierarchies, selectors and labels, with AWS's rules and wording."""

from __future__ import annotations

import re

from lambdabox.errors import AwsError

MAX_LEVELS = 15
_CHARS = re.compile(r"[a-zA-Z0-9_.\-/]+")
_LABEL = re.compile(r"[a-zA-Z0-9_.\-]+")
_ARN = re.compile(r"arn:aws[\w-]*:ssm:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):parameter(?P<name>/.+)")
_PATH_RULES = (
    'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of '
    "sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the "
    "following 3 symbols .-_"
)
SECRETS_REFERENCE = "/aws/reference/secretsmanager/"


def check_name(name: str) -> None:
    """The rules of PutParameter's `Name`."""
    if _CHARS.fullmatch(name) is None or name.endswith("/") or "//" in name:
        raise AwsError("ValidationException", _PATH_RULES)
    if "/" in name and not name.startswith("/"):
        raise AwsError("ValidationException", "Parameter name must be a fully qualified name.")
    first = name.lstrip("/").split("/", 1)[0].lower()
    if name.startswith("/"):
        if first == "aws" or first.startswith("aws"):
            raise AwsError("AccessDeniedException", f"No access to reserved parameter name: {name}.")
        if first.startswith("ssm"):
            raise AwsError("ValidationException", _PATH_RULES)
    elif first.startswith(("aws", "ssm")):
        raise AwsError(
            "ValidationException",
            'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).',
        )
    if name.count("/") > MAX_LEVELS:
        raise AwsError(
            "HierarchyLevelLimitExceededException",
            f"A hierarchy can have a maximum of {MAX_LEVELS} levels. For more information, see Requirements "
            "and constraints for parameter names in the AWS Systems Manager User Guide.",
        )


def check_path(path: str) -> None:
    """GetParametersByPath's `Path`."""
    if not path.startswith("/") or _CHARS.fullmatch(path) is None or "//" in path:
        raise AwsError(
            "ValidationException",
            "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a "
            'forward slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use '
            "only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special "
            'characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". '
            f"Valid example: /get/parameters2-/by1./path0_. Invalid: {path}",
        )
    if path.rstrip("/").count("/") > MAX_LEVELS:
        raise AwsError(
            "HierarchyLevelLimitExceededException",
            f"A hierarchy can have a maximum of {MAX_LEVELS} levels.",
        )


def arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter{name if name.startswith('/') else '/' + name}"


def split_selector(reference: str, region: str, account: str) -> tuple[str, str | None]:
    """(name, selector after ':' or None) of a GetParameter(s) name: `name`, `name:3`, `name:label`, or an
    ARN of this account (optionally with a selector; its name always starts with '/')."""
    if reference.startswith("arn:"):
        head, _, tail = reference.partition(":parameter")
        body, sep, selector = tail.partition(":")
        match = _ARN.fullmatch(f"{head}:parameter{body}")
        if match is None or match["region"] != region or match["account"] != account:
            return reference, None
        return match["name"], (selector if sep else None)
    name, sep, selector = reference.partition(":")
    return name, (selector if sep else None)


def label_problem(label: str) -> bool:
    """Is `label` unusable as a version label (AWS lists such labels as InvalidLabels)?"""
    return (
        len(label) > 100
        or _LABEL.fullmatch(label) is None
        or label[0].isdigit()
        or label.lower().startswith(("aws", "ssm"))
    )
