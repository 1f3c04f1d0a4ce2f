"""What the EventBridge handlers share: the handler type, output shapes and pagination tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from lambdabox.aws.pagination import decode_token, encode_token
from lambdabox.core.events.models import EventBus, Rule
from lambdabox.core.events.names import EventsNames
from lambdabox.core.events.service import EventsService
from lambdabox.errors import AwsError

Handler = Callable[[EventsService, dict[str, Any]], dict[str, Any] | None]
T = TypeVar("T")
DEFAULT_LIMIT = 100


def compact(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if v is not None}


def bus_settings_shape(bus: EventBus) -> dict[str, Any]:
    return compact(
        {
            "Description": bus.description,
            "KmsKeyIdentifier": bus.kms_key,
            "DeadLetterConfig": {"Arn": bus.dead_letter_arn} if bus.dead_letter_arn else None,
            "LogConfig": bus.log_config,
        }
    )


def bus_shape(names: EventsNames, bus: EventBus) -> dict[str, Any]:
    return compact(
        {
            "Name": bus.name,
            "Arn": names.bus_arn(bus.name),
            **bus_settings_shape(bus),
            "Policy": bus.policy,
            "CreationTime": bus.created,
            "LastModifiedTime": bus.modified,
        }
    )


def rule_shape(names: EventsNames, rule: Rule) -> dict[str, Any]:
    return compact(
        {
            "Name": rule.name,
            "Arn": names.rule_arn(rule.bus, rule.name),
            "EventPattern": rule.event_pattern,
            "ScheduleExpression": rule.schedule,
            "State": rule.state.value,
            "Description": rule.description,
            "RoleArn": rule.role_arn,
            "EventBusName": rule.bus,
        }
    )


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tag_map(tags: Sequence[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def _invalid_token() -> AwsError:
    return AwsError("ValidationException", "The NextToken provided is invalid.")


def page(
    kind: str, items: Sequence[T], key: Callable[[T], str], params: dict[str, Any]
) -> tuple[list[T], str | None]:
    """One page of `items` (sorted by `key`) after `NextToken`, at most `Limit` long, and the next token."""
    token = params.get("NextToken")
    if token:
        after = str(decode_token(token, kind, _invalid_token))
        items = [item for item in items if key(item) > after]
    limit = params.get("Limit", DEFAULT_LIMIT)
    chosen = list(items[:limit])
    if len(items) <= limit:
        return chosen, None
    return chosen, encode_token(kind, key(chosen[-1]))
