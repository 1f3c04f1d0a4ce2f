"""Model-driven constraint checks (required, length, range, pattern, enum) with AWS's wording.

Each shape's constraints are read from the model once and compiled into a check (None for a shape without
any): a valid request costs a few comparisons per member, and a member's path is only spelled out for a
problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from botocore.model import OperationModel, Shape

from lambdabox.errors import AwsError, validation_error

# (value, path of its parent, its own name in the path, problems found so far)
Check = Callable[[Any, str, str, list[str]], None]
_NUMBERS = ("integer", "long", "double", "float")
# A shape's check, by its definition: botocore builds a new Shape object for every reference to a shape
# (a recursive shape is an endless chain of them). Key: (id of the model's shape resolver, shape name,
# the constraints a member reference may add); the value keeps the resolver alive.
_checks: dict[tuple[int, str, str], tuple[object, Check | None]] = {}
_operation_checks: dict[int, tuple[OperationModel, Check | None]] = {}  # id(operation) -> its input's


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


def _where(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def check_of(shape: Shape) -> Check | None:
    """The compiled check of `shape`'s constraints and its members' (None: it has none)."""
    resolver = shape._shape_resolver
    meta = shape.metadata
    key = (id(resolver), shape.name, repr(sorted(meta.items())))
    found = _checks.get(key)
    if found is not None:
        return found[1]
    type_name = shape.type_name
    check: Check | None = None
    if type_name == "structure":
        structure = _Structure()
        _checks[key] = (resolver, structure)  # first, for shapes that contain themselves
        structure.fill(shape)
        check = structure if structure.required or structure.members else None
    elif type_name in ("list", "map"):
        container = _List(meta) if type_name == "list" else _Map(meta)
        _checks[key] = (resolver, container)
        container.fill(shape)
        check = container
    elif type_name == "string":
        check = _string_check(meta, shape.enum)
    elif type_name in _NUMBERS and ("min" in meta or "max" in meta):
        check = _number_check(meta)
    _checks[key] = (resolver, check)
    return check


class _Structure:
    def __init__(self) -> None:
        self.required: tuple[tuple[str, str], ...] = ()  # (member, its name in paths)
        self.members: tuple[tuple[str, str, Check], ...] = ()  # members with constraints of their own

    def fill(self, shape: Shape) -> None:
        self.required = tuple((name, lower_camel(name)) for name in getattr(shape, "required_members", []))
        members = []
        for name, member in shape.members.items():
            member_check = check_of(member)
            if member_check is not None:
                members.append((name, lower_camel(name), member_check))
        self.members = tuple(members)

    def __call__(self, value: Any, parent: str, name: str, problems: list[str]) -> None:
        if not isinstance(value, dict):
            return
        path = _where(parent, name)
        for member, shown in self.required:
            if value.get(member) is None:
                problems.append(
                    f"Value null at '{_where(path, shown)}' failed to satisfy constraint: Member must not be null"
                )
        for member, shown, member_check in self.members:
            member_value = value.get(member)
            if member_value is not None:
                member_check(member_value, path, shown, problems)


class _List:
    def __init__(self, meta: dict[str, Any]) -> None:
        self.meta = meta
        self.item: Check | None = None

    def fill(self, shape: Shape) -> None:
        self.item = check_of(shape.member)

    def __call__(self, value: Any, parent: str, name: str, problems: list[str]) -> None:
        if not isinstance(value, list):
            return
        path = _where(parent, name)
        _check_length(self.meta, len(value), value, path, problems)
        if self.item is not None:
            for index, item in enumerate(value):
                self.item(item, path, f"{index + 1}.member", problems)


class _Map:
    def __init__(self, meta: dict[str, Any]) -> None:
        self.meta = meta
        self.key: Check | None = None
        self.value: Check | None = None

    def fill(self, shape: Shape) -> None:
        self.key, self.value = check_of(shape.key), check_of(shape.value)

    def __call__(self, value: Any, parent: str, name: str, problems: list[str]) -> None:
        if not isinstance(value, dict):
            return
        path = _where(parent, name)
        _check_length(self.meta, len(value), value, path, problems)
        for key, item in value.items():
            if self.key is not None:
                self.key(key, path, "key", problems)
            if self.value is not None:
                self.value(item, path, f"{key}.value", problems)


def _string_check(meta: dict[str, Any], enum: list[str] | None) -> Check | None:
    low, high, pattern = meta.get("min"), meta.get("max"), meta.get("pattern")
    compiled = _compiled(pattern) if pattern is not None else None
    allowed = frozenset(enum) if enum else None
    if low is None and high is None and compiled is None and allowed is None:
        return None
    sensitive = bool(meta.get("sensitive"))

    def check(value: Any, parent: str, name: str, problems: list[str]) -> None:
        if not isinstance(value, str):
            return
        length = len(value)
        if (
            (low is None or length >= low)
            and (high is None or length <= high)
            and (allowed is None or value in allowed)
            and (compiled is None or compiled.fullmatch(value) is not None)
        ):
            return
        path = _where(parent, name)
        shown = "[REDACTED]" if sensitive else value
        _check_length(meta, length, shown, path, problems)
        if compiled is not None and compiled.fullmatch(value) is None:
            problems.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
        if enum and value not in enum:
            problems.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )

    return check


def _number_check(meta: dict[str, Any]) -> Check:
    def check(value: Any, parent: str, name: str, problems: list[str]) -> None:
        if not isinstance(value, (int, float)):
            return
        if "min" in meta and value < meta["min"]:
            problems.append(
                f"Value '{_shown(value)}' at '{_where(parent, name)}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            problems.append(
                f"Value '{_shown(value)}' at '{_where(parent, name)}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )

    return check


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
    found = _operation_checks.get(id(operation))
    if found is None:
        shape = operation.input_shape
        found = _operation_checks[id(operation)] = (operation, None if shape is None else check_of(shape))
    check = found[1]
    if check is None:
        return
    problems: list[str] = []
    check(params, "", "", problems)
    if problems:
        raise AwsError(code, validation_error(problems).message)
