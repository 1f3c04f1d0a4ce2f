"""EventBridge domain records. Frozen dataclasses; changes produce new records (`dataclasses.replace`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

DEFAULT_BUS = "default"


def iso_time(seconds: float) -> str:
    """An event's `time`: UTC, whole seconds, as EventBridge writes it."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RuleState(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


@dataclass(frozen=True)
class EventBus:
    name: str
    created: float
    modified: float
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    policy: str | None = None  # resource-based policy (JSON), core/events/bus_policy.py
    # Kept and returned as given: events are not kept at rest (nothing to encrypt), a bus's dead-letter
    # queue waits for SQS, and its own logging is not written.
    kms_key: str | None = None
    dead_letter_arn: str | None = None
    log_config: dict[str, str] | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    bus: str
    state: RuleState = RuleState.ENABLED
    event_pattern: str | None = None
    schedule: str | None = None
    description: str | None = None
    role_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.state is not RuleState.DISABLED


@dataclass(frozen=True)
class InputTransformer:
    template: str
    paths: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    id: str
    arn: str
    role_arn: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: InputTransformer | None = None
    # Target-type parameter blocks (SqsParameters, RetryPolicy, DeadLetterConfig, ...) as the request
    # gave them: kept so ListTargetsByRule answers them back; nothing on this platform acts on them.
    parameters: dict[str, Any] = field(default_factory=dict)
