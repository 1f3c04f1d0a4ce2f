"""Model-driven constraint checks (required, length, range, pattern, enum) with AWS's wording."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from botocore.model import OperationModel, Shape

from lambdabox.errors import AwsError, validation_error


def lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


@lru_cache(maxsize=2048)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:  # a Java-only construct: skip rather than refuse valid input
        return None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """Append one AWS-worded problem per violated constraint of `value` (and of its members)."""
    meta = shape.metadata
    type_name = shape.type_name
    if type_name == "structure" and isinstance(value, dict):
        for member_name in getattr(shape, "required_members", []):
            if value.get(member_name) is None:
                where = f"{path}.{lower_camel(member_name)}" if path else lower_camel(member_name)
                problems.append(
                    f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
                )
        for member_name, member_shape in shape.members.items():
            member_value = value.get(member_name)
            if member_value is not None:
                where = f"{path}.{lower_camel(member_name)}" if path else lower_camel(member_name)
                check(member_shape, member_value, where, problems)
        return
    if type_name == "list" and isinstance(value, list):
        _check_length(meta, len(value), value, path, problems)
        for index, item in enumerate(value):
            check(shape.member, item, f"{path}.{index + 1}.member", problems)
        return
    if type_name == "map" and isinstance(value, dict):
        _check_length(meta, len(value), value, path, problems)
        for key, item in value.items():
            check(shape.key, key, f"{path}.key", problems)
            check(shape.value, item, f"{path}.{key}.value", problems)
        return
    if type_name == "string" and isinstance(value, str):
        shown = "[REDACTED]" if meta.get("sensitive") else value
        _check_length(meta, len(value), shown, path, problems)
        pattern = meta.get("pattern")
        if pattern is not None:
            compiled = _compiled(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                problems.append(
                    f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern}"
                )
        enum = shape.enum
        if enum and value not in enum:
            problems.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
        return
    if type_name in ("integer", "long", "double", "float") and isinstance(value, (int, float)):
        if "min" in meta and value < meta["min"]:
            problems.append(
                f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            problems.append(
                f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )


def _check_length(meta: dict[str, Any], length: int, shown: Any, path: str, problems: list[str]) -> None:
    if "min" in meta and length < meta["min"]:
        problems.append(
            f"Value '{_shown(shown)}' at '{path}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {meta['min']}"
        )
    if "max" in meta and length > meta["max"]:
        problems.append(
            f"Value '{_shown(shown)}' at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {meta['max']}"
        )


def validate_input(
    operation: OperationModel, params: dict[str, Any], code: str = "ValidationException"
) -> None:
    """Raise the service's validation error (`code`) listing every constraint the input violates."""
    shape = operation.input_shape
    if shape is None:
        return
    problems: list[str] = []
    check(shape, params, "", problems)
    if problems:
        raise AwsError(code, validation_error(problems).message)
