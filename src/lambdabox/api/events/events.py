"""PutEvents and TestEventPattern."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdabox.api.events.common import compact
from lambdabox.core.events.service import EventEntry, EventsService


def _entry(shape: dict[str, Any]) -> EventEntry:
    time = shape.get("Time")
    return EventEntry(
        source=shape.get("Source"),
        detail_type=shape.get("DetailType"),
        detail=shape.get("Detail"),
        resources=tuple(shape.get("Resources") or ()),
        time=time.timestamp() if isinstance(time, datetime) else None,
        bus=shape.get("EventBusName"),
    )


def put_events(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    results = events.put_events([_entry(shape) for shape in params["Entries"]])
    return {
        "FailedEntryCount": sum(1 for r in results if r.error_code is not None),
        "Entries": [
            compact({"EventId": r.event_id, "ErrorCode": r.error_code, "ErrorMessage": r.error_message})
            for r in results
        ],
    }


def test_event_pattern(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    return {"Result": events.test_event_pattern(params["EventPattern"], params["Event"])}
