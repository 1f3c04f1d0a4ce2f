"""The shared API Gateway control-plane handlers: find, list, update and delete by request members."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdabox.api.apigateway.common import date, delete, get, items, update


@dataclass(frozen=True)
class Thing:
    api_id: str
    thing_id: str
    name: str = ""


@dataclass
class Things:
    """A core service stand-in with the (parent, id) method signatures of HttpApiService."""

    store: dict[tuple[str, str], Thing] = field(default_factory=dict)

    def get_thing(self, api_id: str, thing_id: str) -> Thing:
        return self.store[(api_id, thing_id)]

    def list_things(self, api_id: str) -> list[Thing]:
        return [t for (api, _), t in sorted(self.store.items()) if api == api_id]

    def update_thing(self, api_id: str, thing_id: str, changes: Mapping[str, Any]) -> Thing:
        self.store[(api_id, thing_id)] = replace(self.store[(api_id, thing_id)], **changes)
        return self.store[(api_id, thing_id)]

    def delete_thing(self, api_id: str, thing_id: str) -> None:
        del self.store[(api_id, thing_id)]


def thing_shape(thing: Thing) -> dict[str, Any]:
    return {"ThingId": thing.thing_id, "Name": thing.name}


KEYS = ("ApiId", "ThingId")


@pytest.fixture
def things() -> Things:
    return Things(
        {("a", "1"): Thing("a", "1", "one"), ("a", "2"): Thing("a", "2"), ("b", "3"): Thing("b", "3")}
    )


def test_get_passes_the_key_members_in_order(things: Things) -> None:
    handler = get(KEYS, Things.get_thing, thing_shape)
    assert handler(things, {"ApiId": "a", "ThingId": "1", "Other": "x"}) == {"ThingId": "1", "Name": "one"}


def test_items_lists_under_the_parent_in_the_member(things: Things) -> None:
    handler = items("Items", ("ApiId",), Things.list_things, thing_shape)
    assert handler(things, {"ApiId": "a"}) == {
        "Items": [{"ThingId": "1", "Name": "one"}, {"ThingId": "2", "Name": ""}]
    }
    assert items("item", ("ApiId",), Things.list_things, thing_shape)(things, {"ApiId": "c"}) == {"item": []}


def test_update_applies_the_changes_and_answers_the_new_shape(things: Things) -> None:
    handler = update(KEYS, Things.update_thing, lambda params: {"name": params["Name"]}, thing_shape)
    assert handler(things, {"ApiId": "a", "ThingId": "2", "Name": "two"}) == {"ThingId": "2", "Name": "two"}
    assert things.store[("a", "2")].name == "two"


def test_delete_answers_nothing(things: Things) -> None:
    assert delete(KEYS, Things.delete_thing)(things, {"ApiId": "b", "ThingId": "3"}) is None
    assert ("b", "3") not in things.store


def test_date_is_utc() -> None:
    assert date(0) == datetime(1970, 1, 1, tzinfo=UTC)
