"""REST API patchOperations applied to records."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lambdabox.api.apigateway.patch import Entries, Field, Items, boolean, patched
from lambdabox.errors import AwsError


@dataclass(frozen=True)
class Record:
    name: str = "a"
    note: str | None = "n"
    ttl: int = 300
    on: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    types: tuple[str, ...] = ()


SPECS = {
    "/name": Field("name"),
    "/note": Field("note", removable=True),
    "/ttl": Field("ttl", int),
    "/on": Field("on", boolean),
    "/variables": Entries("variables"),
    "/types": Items("types"),
}


def test_fields_entries_and_items() -> None:
    record = patched(
        Record(variables={"old": "1"}, types=("text/csv",)),
        [
            {"op": "replace", "path": "/name", "value": "b"},
            {"op": "remove", "path": "/note"},
            {"op": "replace", "path": "/ttl", "value": "60"},
            {"op": "replace", "path": "/on", "value": "TRUE"},
            {"op": "add", "path": "/variables/color", "value": "blue"},
            {"op": "remove", "path": "/variables/old"},
            {"op": "add", "path": "/types/image~1png", "value": None},
            {"op": "remove", "path": "/types/text~1csv"},
            {"op": "add", "path": "/types/image~1png"},  # once only
        ],
        SPECS,
    )
    assert record == Record("b", None, 60, True, {"color": "blue"}, ("image/png",))


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "/unknown", "value": "x"},
        {"op": "remove", "path": "/name"},  # not removable
        {"op": "add", "path": "/name", "value": "x"},
        {"op": "replace", "path": "/types/a", "value": "x"},  # items are added or removed
        {"op": "replace", "path": "/ttl", "value": "soon"},
        {"op": "replace", "path": "/on", "value": "yes"},
        {"op": "replace", "path": "/name"},  # no value
        {"op": "add", "path": "/variables/", "value": "x"},
    ],
)
def test_refused(operation: dict[str, str]) -> None:
    with pytest.raises(AwsError) as excinfo:
        patched(Record(), [operation], SPECS)
    assert excinfo.value.code == "BadRequestException"
