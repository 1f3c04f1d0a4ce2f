"""REST API (apigateway v1) `patchOperations`: JSON-Patch-like edits of a record, each path one of the
fields an Update* operation allows.

A path names a field (`/description`, `replace`), a member of a structure field (`/throttle/rateLimit`,
`replace`), an entry of a map field (`/variables/<name>`: `add`, `replace`, `remove`), an item of a set
field named in the path (`/binaryMediaTypes/<type>`: `add`, `remove`) or given as the value (`/apiStages`
with `api:stage`: `add`, `remove`); `/` inside a name is written `~1` and `~` is `~0`, as in JSON Pointer. Values arrive as strings and are converted to the
field's type."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from lambdabox.core.apigateway.http_apis import bad_request

T = TypeVar("T")
M = TypeVar("M")  # a domain record
S = TypeVar("S")  # the core service the handler calls


@dataclass(frozen=True)
class Field:
    """`/<path>` replaces the field `name` with `convert(value)` (`remove`: back to None, when allowed)."""

    name: str
    convert: Callable[[str], Any] = str
    removable: bool = False


@dataclass(frozen=True)
class Entries:
    """`/<path>/<key>` edits one entry of the map field `name` (`remove` drops it)."""

    name: str
    convert: Callable[[str], Any] = str


@dataclass(frozen=True)
class Items:
    """`/<path>/<item>` adds an item to, or removes it from, the tuple field `name`."""

    name: str


@dataclass(frozen=True)
class Member:
    """`/<path>` replaces `member` of the structure in field `name` (`empty()` when it has none yet)."""

    name: str
    member: str
    empty: Callable[[], Any]
    convert: Callable[[str], Any] = str


@dataclass(frozen=True)
class Values:
    """`/<path>` with `add` or `remove` and a `value`: one item of the tuple field `name`."""

    name: str
    convert: Callable[[str], Any] = str


Spec = Field | Entries | Items | Member | Values


def boolean(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)
    return text.lower() == "true"


def patched(record: T, operations: Sequence[Mapping[str, Any]], specs: Mapping[str, Spec]) -> T:
    """`record` with `operations` applied in order; BadRequestException for a path or op not allowed."""
    for operation in operations:
        op, path, value = operation.get("op"), str(operation.get("path", "")), operation.get("value")
        spec, key = _spec_of(path, specs)
        if spec is None or not _allowed(str(op), spec):
            raise bad_request(
                f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: [{', '.join(specs)}]"
            )
        current = getattr(record, spec.name)
        try:
            if isinstance(spec, Field):
                new = None if op == "remove" else spec.convert(_text(value, path))
            elif isinstance(spec, Member):
                whole = current if current is not None else spec.empty()
                new = replace(whole, **{spec.member: spec.convert(_text(value, path))})
            elif isinstance(spec, Entries):
                new = dict(current)
                if op == "remove":
                    new.pop(key, None)
                else:
                    new[key] = spec.convert(_text(value, path))
            else:  # an item of a tuple: named by the value (Values) or by the path (Items)
                item = spec.convert(_text(value, path)) if isinstance(spec, Values) else key
                items = tuple(other for other in current if other != item)
                new = items if op == "remove" else (*items, item)
        except ValueError:
            raise bad_request(f"Invalid value '{value}' for patch path '{path}'") from None
        record = replace(record, **{spec.name: new})  # type: ignore[type-var]
    return record


def _spec_of(path: str, specs: Mapping[str, Spec]) -> tuple[Spec | None, str]:
    spec = specs.get(path)
    if spec is not None:
        return (spec, "") if isinstance(spec, Field | Member | Values) else (None, "")
    prefix, _, key = path.rpartition("/")
    spec = specs.get(prefix)
    if spec is None or isinstance(spec, Field | Member | Values) or not key:
        return None, ""
    return spec, key.replace("~1", "/").replace("~0", "~")


def _allowed(op: str | None, spec: Spec) -> bool:
    if isinstance(spec, Field):
        return op == "replace" or (op == "remove" and spec.removable)
    if isinstance(spec, Member):
        return op == "replace"
    if isinstance(spec, Entries):
        return op in ("add", "replace", "remove")
    return op in ("add", "remove")


def _text(value: Any, path: str) -> str:
    if value is None:
        raise bad_request(f"Missing value for patch path '{path}'")
    return str(value)


def patch_handler(
    keys: tuple[str, ...],
    change: Callable[..., M],
    specs: Mapping[str, Spec],
    shape: Callable[[M], dict[str, Any]],
) -> Callable[[S, dict[str, Any]], dict[str, Any] | None]:
    """Update<Resource> with `patchOperations`: `change(service, *keys, edit)`, where `edit` applies them
    to the record, answered with the updated record's shape."""

    def handler(service: S, params: dict[str, Any]) -> dict[str, Any] | None:
        edit = partial(patched, operations=params.get("patchOperations", []), specs=specs)
        return shape(change(service, *[params[key] for key in keys], edit))

    return handler
