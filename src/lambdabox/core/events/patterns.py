"""EventBridge event patterns: validation with the reasons EventBridge gives, and matching.

A pattern is a JSON object whose leaves are arrays of match values. An event matches when every field of
the pattern matches (fields are ANDed, the values of one array ORed, each `$or` branch set ORed); a field
whose event value is an array matches when any element does; nested objects match nested objects, and a
nested pattern over an array of objects matches when one element matches all of its fields. Match values:
exact strings, numbers (compared numerically), booleans, null, and the operators `prefix`, `suffix`
(each also `{"equals-ignore-case": ...}`), `equals-ignore-case`, `wildcard`, `anything-but` (values,
`prefix`, `suffix`, `equals-ignore-case`, `wildcard`), `numeric`, `exists` and `cidr`. `exists` looks at
leaf values only: a field holding an object, or an empty array, does not exist.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

import orjson

from lambdabox.errors import AwsError

_NUMERIC_OPERATORS = ("<", "<=", "=", ">", ">=")


class PatternError(Exception):
    """The reason a pattern is not valid, worded as EventBridge words it."""


def invalid_pattern(reason: str) -> AwsError:
    return AwsError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- conditions ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exact:
    value: Any  # str | int | float | bool | None

    def matches(self, value: Any) -> bool:
        if _is_number(self.value):
            return _is_number(value) and float(value) == float(self.value)
        if isinstance(self.value, bool) or self.value is None:
            return value is self.value
        return isinstance(value, str) and value == self.value


@dataclass(frozen=True)
class Prefix:
    prefix: str
    ignore_case: bool = False

    def matches(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if self.ignore_case:
            return value.casefold().startswith(self.prefix.casefold())
        return value.startswith(self.prefix)


@dataclass(frozen=True)
class Suffix:
    suffix: str
    ignore_case: bool = False

    def matches(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if self.ignore_case:
            return value.casefold().endswith(self.suffix.casefold())
        return value.endswith(self.suffix)


@dataclass(frozen=True)
class IgnoreCase:
    value: str

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and value.casefold() == self.value.casefold()


@dataclass(frozen=True)
class Wildcard:
    regex: re.Pattern[str]

    @classmethod
    def of(cls, text: str) -> Wildcard:
        """`*` matches any run of characters; `\\*` and `\\\\` are a literal star and backslash."""
        parts: list[str] = []
        index = 0
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text) and text[index + 1] in "*\\":
                parts.append(re.escape(text[index + 1]))
                index += 2
                continue
            if char == "*":
                if index + 1 < len(text) and text[index + 1] == "*":
                    raise PatternError(f"Consecutive wildcard characters at pos {index + 1}")
                parts.append(".*")
            else:
                parts.append(re.escape(char))
            index += 1
        return cls(re.compile("".join(parts), re.DOTALL))

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None


@dataclass(frozen=True)
class Numeric:
    bounds: tuple[tuple[str, float], ...]

    def matches(self, value: Any) -> bool:
        if not _is_number(value):
            return False
        number = float(value)
        for operator, operand in self.bounds:
            ok = {
                "<": number < operand,
                "<=": number <= operand,
                "=": number == operand,
                ">": number > operand,
                ">=": number >= operand,
            }[operator]
            if not ok:
                return False
        return True


@dataclass(frozen=True)
class Cidr:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    def matches(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return ipaddress.ip_address(value) in self.network
        except ValueError:
            return False


@dataclass(frozen=True)
class AnythingBut:
    """Matches any present value that none of `excluded` matches (null and other types included)."""

    excluded: tuple[Condition, ...]

    def matches(self, value: Any) -> bool:
        return not any(condition.matches(value) for condition in self.excluded)


@dataclass(frozen=True)
class Exists:
    expected: bool

    def matches(self, value: Any) -> bool:  # evaluated over all leaf values by `_match_leaf`
        return self.expected


Condition: TypeAlias = Exact | Prefix | Suffix | IgnoreCase | Wildcard | Numeric | Cidr | AnythingBut | Exists


# -- the compiled pattern --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """One object level of a pattern: fields (nested nodes or leaf conditions) and `$or` alternatives."""

    fields: tuple[tuple[str, Node | tuple[Condition, ...]], ...]
    alternatives: tuple[tuple[Node, ...], ...] = ()

    def matches(self, event: Mapping[str, Any]) -> bool:
        for key, sub in self.fields:
            value = event.get(key)
            if isinstance(sub, Node):
                if not _match_nested(sub, value):
                    return False
            elif not _match_leaf(sub, key in event, value):
                return False
        return all(any(branch.matches(event) for branch in branches) for branches in self.alternatives)


def _match_nested(node: Node, value: Any) -> bool:
    if isinstance(value, dict):
        return node.matches(value)
    if isinstance(value, list):
        objects = [item for item in value if isinstance(item, dict)]
        if objects:
            return any(node.matches(item) for item in objects)
    return node.matches({})


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _match_leaf(conditions: tuple[Condition, ...], present: bool, value: Any) -> bool:
    leaves = _leaves(value) if present else []
    for condition in conditions:
        if isinstance(condition, Exists):
            if condition.expected == bool(leaves):
                return True
        elif any(condition.matches(leaf) for leaf in leaves):
            return True
    return False


# -- compiling -------------------------------------------------------------------------------------------
def _object(document: dict[str, Any]) -> Node:
    if not document:
        raise PatternError("Empty objects are not allowed")
    fields: list[tuple[str, Node | tuple[Condition, ...]]] = []
    alternatives: list[tuple[Node, ...]] = []
    for key, value in document.items():
        if key == "$or":
            if not isinstance(value, list):
                raise PatternError("It must be an Array followed with $or.")
            if not all(isinstance(branch, dict) for branch in value):
                raise PatternError("Only JSON object is allowed in array of $or relationship.")
            if len(value) < 2:
                raise PatternError("There must have at least 2 Objects in $or relationship.")
            alternatives.append(tuple(_object(branch) for branch in value))
        elif isinstance(value, dict):
            fields.append((key, _object(value)))
        elif isinstance(value, list):
            if not value:
                raise PatternError("Empty arrays are not allowed")
            fields.append((key, tuple(_value(item) for item in value)))
        else:
            raise PatternError(f'"{key}" must be an object or an array')
    return Node(tuple(fields), tuple(alternatives))


def _value(item: Any) -> Condition:
    if isinstance(item, dict):
        return _expression(item)
    if isinstance(item, (str, bool, int, float)) or item is None:
        return Exact(item)
    raise PatternError("Match value must be String, number, true, false, or null")


def _string(value: Any, reason: str) -> str:
    if not isinstance(value, str):
        raise PatternError(reason)
    return value


def _expression(item: dict[str, Any]) -> Condition:
    if not item:
        raise PatternError("Match expression name not found")
    if len(item) > 1:
        raise PatternError("Only one key allowed in match expression")
    (operator, value), *_ = item.items()
    if operator in ("prefix", "suffix"):
        kind = Prefix if operator == "prefix" else Suffix
        if isinstance(value, dict) and list(value) == ["equals-ignore-case"]:
            return kind(
                _string(value["equals-ignore-case"], f"{operator} match pattern must be a string"), True
            )
        return kind(_string(value, f"{operator} match pattern must be a string"))
    if operator == "equals-ignore-case":
        return IgnoreCase(_string(value, "equals-ignore-case match pattern must be a string"))
    if operator == "wildcard":
        return Wildcard.of(_string(value, "wildcard match pattern must be a string"))
    if operator == "exists":
        if not isinstance(value, bool):
            raise PatternError("exists match pattern must be either true or false.")
        return Exists(value)
    if operator == "numeric":
        return _numeric(value)
    if operator == "anything-but":
        return _anything_but(value)
    if operator == "cidr":
        return _cidr(value)
    raise PatternError(f"Unrecognized match type {operator}")


def _numeric(value: Any) -> Numeric:
    if not isinstance(value, list):
        raise PatternError("Value of numeric must be an array.")
    if not value or not isinstance(value[0], str):
        raise PatternError(f"Invalid member in numeric match: {value[0] if value else ']'}")
    operator = value[0]
    if operator not in _NUMERIC_OPERATORS:
        raise PatternError(f"Unrecognized numeric range operator: {operator}")
    shown = "equals" if operator == "=" else operator
    if len(value) < 2 or not _is_number(value[1]):
        raise PatternError(f"Value of {shown} must be numeric")
    bounds = [(operator, float(value[1]))]
    rest = value[2:]
    if rest:
        if operator not in (">", ">="):
            raise PatternError("Too many elements in numeric expression")
        top_operator = rest[0]
        if not isinstance(top_operator, str):
            raise PatternError(f"Bad value in numeric range: {top_operator}")
        if top_operator not in ("<", "<="):
            raise PatternError(f"Bad numeric range operator: {top_operator}")
        if len(rest) < 2 or not _is_number(rest[1]):
            raise PatternError(f"Value of {top_operator} must be numeric")
        if len(rest) > 2:
            raise PatternError("Too many terms in numeric range expression")
        if float(rest[1]) <= bounds[0][1]:
            raise PatternError("Bottom must be less than top")
        bounds.append((top_operator, float(rest[1])))
    return Numeric(tuple(bounds))


def _strings(value: Any, reason: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(item, str) for item in values):
        raise PatternError(reason)
    return values


def _anything_but(value: Any) -> AnythingBut:
    if isinstance(value, dict):
        if not value:
            raise PatternError("Anything-But expression name not found")
        if len(value) > 1:
            raise PatternError("Only one key allowed in match expression")
        (operator, operand), *_ = value.items()
        if operator in ("prefix", "suffix"):
            texts = _strings(operand, "prefix/suffix match pattern must be a string")
            if any(not text for text in texts):
                raise PatternError("Null prefix/suffix not allowed")
            kind = Prefix if operator == "prefix" else Suffix
            return AnythingBut(tuple(kind(text) for text in texts))
        if operator == "equals-ignore-case":
            reason = (
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
            )
            return AnythingBut(tuple(IgnoreCase(text) for text in _strings(operand, reason)))
        if operator == "wildcard":
            texts = _strings(operand, "wildcard match pattern must be a string")
            return AnythingBut(tuple(Wildcard.of(text) for text in texts))
        raise PatternError(f"Unsupported anything-but pattern: {operator}")
    if isinstance(value, list):
        if any(not (isinstance(item, str) or _is_number(item)) for item in value):
            raise PatternError("Inside anything but list, start|null|boolean is not supported.")
        kinds = {isinstance(item, str) for item in value}
        if len(kinds) != 1:
            raise PatternError(
                "Inside anything but list, either all values are number or string, mixed type is not supported"
            )
        return AnythingBut(tuple(Exact(item) for item in value))
    if isinstance(value, str) or _is_number(value):
        return AnythingBut((Exact(value),))
    raise PatternError("Value of anything-but must be an array or single string/number value.")


def _cidr(value: Any) -> Cidr:
    text = _string(value, "prefix match pattern must be a string")
    address, slash, bits = text.partition("/")
    if not slash or "/" in bits:
        raise PatternError("Malformed CIDR, one '/' required")
    if not bits.isdigit():
        raise PatternError("Malformed CIDR, mask bits must be an integer")
    try:
        return Cidr(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise PatternError(f"Nonstandard IP address: {address}") from None


@lru_cache(maxsize=4096)
def compile_pattern(text: str) -> Node:
    """The compiled pattern, or InvalidEventPatternException with EventBridge's reason."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise invalid_pattern("Filter is not valid JSON") from None
    if not isinstance(document, dict):
        raise invalid_pattern("Filter is not an object")
    try:
        return _object(document)
    except PatternError as error:
        raise invalid_pattern(str(error)) from None


def matches(pattern: str, event: Mapping[str, Any]) -> bool:
    return compile_pattern(pattern).matches(event)
