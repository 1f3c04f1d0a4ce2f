"""Event buses: create, delete, describe, list."""

from __future__ import annotations

from typing import Any

from lambdabox.api.events.common import bus_shape, compact, page, tag_map
from lambdabox.core.events.service import EventsService


def create_event_bus(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    bus = events.create_bus(
        params["Name"], params.get("EventSourceName"), params.get("Description"), tag_map(params.get("Tags"))
    )
    return compact({"EventBusArn": events.names.bus_arn(bus.name), "Description": bus.description})


def delete_event_bus(events: EventsService, params: dict[str, Any]) -> None:
    events.delete_bus(params["Name"])


def describe_event_bus(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    return bus_shape(events.names, events.bus(params.get("Name")))


def list_event_buses(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    buses, token = page(
        "ListEventBuses", events.list_buses(params.get("NamePrefix")), lambda b: b.name, params
    )
    return compact({"EventBuses": [bus_shape(events.names, bus) for bus in buses], "NextToken": token})
