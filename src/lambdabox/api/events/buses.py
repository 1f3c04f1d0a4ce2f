"""Event buses: create, update, delete, describe, list, and their resource-based policies."""

from __future__ import annotations

from typing import Any

from lambdabox.api.events.common import bus_settings_shape, bus_shape, compact, page, tag_map
from lambdabox.core.events.service import BusSettings, EventsService


def _settings(params: dict[str, Any]) -> BusSettings:
    return BusSettings(
        description=params.get("Description"),
        kms_key=params.get("KmsKeyIdentifier"),
        dead_letter_arn=(params.get("DeadLetterConfig") or {}).get("Arn"),
        log_config=params.get("LogConfig"),
    )


def create_event_bus(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    bus = events.create_bus(
        params["Name"], params.get("EventSourceName"), _settings(params), tag_map(params.get("Tags"))
    )
    return compact({"EventBusArn": events.names.bus_arn(bus.name), **bus_settings_shape(bus)})


def update_event_bus(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    bus = events.update_bus(params.get("Name"), _settings(params))
    return compact({"Arn": events.names.bus_arn(bus.name), "Name": bus.name, **bus_settings_shape(bus)})


def delete_event_bus(events: EventsService, params: dict[str, Any]) -> None:
    events.delete_bus(params["Name"])


def describe_event_bus(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    return bus_shape(events.names, events.bus(params.get("Name")))


def list_event_buses(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    buses, token = page(
        "ListEventBuses", events.list_buses(params.get("NamePrefix")), lambda b: b.name, params
    )
    return compact({"EventBuses": [bus_shape(events.names, bus) for bus in buses], "NextToken": token})


def put_permission(events: EventsService, params: dict[str, Any]) -> None:
    events.put_permission(
        params.get("EventBusName"),
        params.get("Action"),
        params.get("Principal"),
        params.get("StatementId"),
        params.get("Condition"),
        params.get("Policy"),
    )


def remove_permission(events: EventsService, params: dict[str, Any]) -> None:
    events.remove_permission(
        params.get("EventBusName"), params.get("StatementId"), bool(params.get("RemoveAllPermissions"))
    )
