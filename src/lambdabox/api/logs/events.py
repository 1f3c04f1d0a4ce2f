"""Log events: PutLogEvents, GetLogEvents (forward/backward tokens) and FilterLogEvents (patterns)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from lambdabox.api.logs.common import (
    Ctx,
    decode_token,
    encode_token,
    invalid_parameter,
    invalid_token,
    now_ms,
    parse_position,
    position_digits,
)
from lambdabox.api.logs.patterns import compile_pattern
from lambdabox.storage.interfaces import EventPosition, LogEvent

MAX_BATCH_BYTES = 1_048_576  # PutLogEvents: sum of UTF-8 messages + 26 bytes per event
MAX_PAGE_BYTES = 1_048_576  # GetLogEvents / FilterLogEvents pages
EVENT_OVERHEAD = 26
MAX_EVENTS = 10_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SCAN_BATCH = 1_000
SCAN_BUDGET = 50_000  # events FilterLogEvents examines per call; past it, a nextToken resumes the search
_STREAM_TOKEN = re.compile(r"([fb])/(\d{56})/s")


def _size(event: LogEvent) -> int:
    return len(event.message.encode()) + EVENT_OVERHEAD


def _position(event: LogEvent) -> EventPosition:
    return event.timestamp, event.event_id


# -- PutLogEvents ------------------------------------------------------------------------------------------
def put_log_events(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    group, stream = params["logGroupName"], params["logStreamName"]
    info = ctx.require_group(group)
    ctx.require_stream(group, stream)
    events: list[dict[str, Any]] = params["logEvents"]
    size = sum(len(e["message"].encode()) + EVENT_OVERHEAD for e in events)
    if size > MAX_BATCH_BYTES:
        raise invalid_parameter(f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")
    stamps = [int(e["timestamp"]) for e in events]
    if any(later < earlier for earlier, later in itertools.pairwise(stamps)):
        raise invalid_parameter("Log events in a single PutLogEvents request must be in chronological order.")
    now = now_ms()
    too_new = next((i for i, ts in enumerate(stamps) if ts > now + 2 * HOUR_MS), None)
    too_old_end = sum(1 for ts in stamps if ts < now - 14 * DAY_MS)
    expired_end = 0
    if info.retention_days is not None:
        expired_end = sum(1 for ts in stamps if ts < now - info.retention_days * DAY_MS)
    first = max(too_old_end, expired_end)
    last = len(events) if too_new is None else too_new
    accepted = list(zip(stamps[first:last], (e["message"] for e in events[first:last]), strict=True))
    if accepted and accepted[-1][0] - accepted[0][0] > DAY_MS:
        raise invalid_parameter(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
        )
    ctx.store.append({(group, stream): accepted})
    output: dict[str, Any] = {"nextSequenceToken": position_digits((now, len(events)))}
    rejected: dict[str, int] = {}
    if too_new is not None:
        rejected["tooNewLogEventStartIndex"] = too_new
    if too_old_end:
        rejected["tooOldLogEventEndIndex"] = too_old_end
    if expired_end:
        rejected["expiredLogEventEndIndex"] = expired_end
    if rejected:
        output["rejectedLogEventsInfo"] = rejected
    return output


# -- GetLogEvents ------------------------------------------------------------------------------------------
def _stream_token(direction: str, position: EventPosition) -> str:
    return f"{direction}/{position_digits(position)}/s"


def get_log_events(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    group = ctx.group_name(params)
    stream = params["logStreamName"]
    ctx.require_stream(group, stream)
    token = params.get("nextToken")
    position: EventPosition | None = None
    if token:
        match = _STREAM_TOKEN.fullmatch(token)
        if match is None:
            raise invalid_token()
        direction, position = match[1], parse_position(match[2])
    else:
        direction = "f" if params.get("startFromHead") else "b"
    limit = params.get("limit", MAX_EVENTS)
    forward_read = direction == "f"
    found = ctx.store.read_events(  # backward: the `limit` newest events before the position
        group,
        limit=limit,
        streams=[stream],
        start=params.get("startTime"),
        end=params.get("endTime"),
        after=position if forward_read else None,
        before=None if forward_read else position,
        descending=not forward_read,
    )
    page: list[LogEvent] = []
    size = 0
    for event in found:
        size += _size(event)
        if size > MAX_PAGE_BYTES and page:
            break
        page.append(event)
    if direction == "b":
        page.reverse()
    if page:
        forward = _stream_token("f", _position(page[-1]))
        backward = _stream_token("b", _position(page[0]))
    else:  # nothing (new) in this direction: the same token again
        here = position or (0, 0)
        forward = token if token and direction == "f" else _stream_token("f", here)
        backward = token if token and direction == "b" else _stream_token("b", here)
    return {
        "events": [
            {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time} for e in page
        ],
        "nextForwardToken": forward,
        "nextBackwardToken": backward,
    }


# -- FilterLogEvents ---------------------------------------------------------------------------------------
def filter_log_events(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    group = ctx.group_name(params)
    names = params.get("logStreamNames")
    prefix = params.get("logStreamNamePrefix")
    if names is not None and prefix is not None:
        raise invalid_parameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
    ctx.require_group(group)
    matches = compile_pattern(params.get("filterPattern"))
    limit = params.get("limit", MAX_EVENTS)
    end = params.get("endTime")
    kind = f"FilterLogEvents/{group}"
    position: EventPosition | None = None
    if params.get("nextToken"):
        state = decode_token(kind, params["nextToken"])
        if not (isinstance(state, list) and len(state) == 2 and state[0] in ("asc", "desc")):
            raise invalid_token()
        descending, position = state[0] == "desc", parse_position(str(state[1]))
    else:
        descending = params.get("startFromHead") is False
    found: list[LogEvent] = []
    size = scanned = 0
    more = True  # events may remain after `position`
    full = False
    while more and not full:
        batch = ctx.store.read_events(
            group,
            limit=SCAN_BATCH,
            streams=names,
            stream_prefix=prefix,
            start=params.get("startTime"),
            end=None if end is None else end + 1,  # FilterLogEvents' endTime is inclusive
            after=None if descending else position,
            before=position if descending else None,
            descending=descending,
        )
        more = len(batch) == SCAN_BATCH
        for index, event in enumerate(batch):
            if matches(event.message):
                if found and size + _size(event) > MAX_PAGE_BYTES:
                    more = full = True  # this event starts the next page
                    break
                found.append(event)
                size += _size(event)
            scanned += 1
            position = _position(event)
            if len(found) >= limit or scanned >= SCAN_BUDGET:
                full = True
                more = more or index + 1 < len(batch)
                break
    output: dict[str, Any] = {
        "events": [
            {
                "logStreamName": e.stream,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingestion_time,
                "eventId": position_digits(_position(e)),
            }
            for e in found
        ],
        "searchedLogStreams": [],  # AWS: "no longer supported ... returns an empty list"
    }
    if more and position is not None:
        output["nextToken"] = encode_token(kind, ["desc" if descending else "asc", position_digits(position)])
    return output
