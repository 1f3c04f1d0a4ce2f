"""EventBridge Scheduler domain records. Frozen dataclasses; changes produce new records."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

DEFAULT_GROUP = "default"
DEFAULT_TIMEZONE = "UTC"
# A target's RetryPolicy when the request gives none (or leaves a member out), as AWS answers it.
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86_400


class ScheduleState(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class FlexibleMode(StrEnum):
    OFF = "OFF"
    FLEXIBLE = "FLEXIBLE"


class AfterCompletion(StrEnum):
    NONE = "NONE"
    DELETE = "DELETE"


@dataclass(frozen=True)
class ScheduleGroup:
    name: str
    created: float
    modified: float
    tags: dict[str, str] = field(default_factory=dict)
    client_token: str | None = None  # of the CreateScheduleGroup call: a retry of it succeeds again


@dataclass(frozen=True)
class RetryPolicy:
    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS
    maximum_event_age_seconds: int = DEFAULT_MAXIMUM_EVENT_AGE_SECONDS


@dataclass(frozen=True)
class ScheduleTarget:
    arn: str
    role_arn: str
    input: str | None = None
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    dead_letter_arn: str | None = None
    # Target-type parameter blocks (EventBridgeParameters, SqsParameters, EcsParameters, ...) as the
    # request gave them: answered back by GetSchedule; EventBridgeParameters is acted on.
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlexibleTimeWindow:
    mode: FlexibleMode = FlexibleMode.OFF
    maximum_window_minutes: int | None = None


@dataclass(frozen=True)
class Schedule:
    name: str
    group: str
    expression: str
    target: ScheduleTarget
    created: float
    modified: float
    timezone: str = DEFAULT_TIMEZONE
    state: ScheduleState = ScheduleState.ENABLED
    flexible_time_window: FlexibleTimeWindow = field(default_factory=FlexibleTimeWindow)
    start_date: float | None = None
    end_date: float | None = None
    description: str | None = None
    kms_key_arn: str | None = None
    action_after_completion: AfterCompletion = AfterCompletion.NONE
    client_token: str | None = None  # of the CreateSchedule call: a retry of it succeeds again

    @property
    def enabled(self) -> bool:
        return self.state is ScheduleState.ENABLED

    @property
    def one_time(self) -> bool:
        return self.expression.startswith("at(")


@dataclass(frozen=True)
class PendingDelivery:
    """A fire its target refused with a retryable error, waiting for its next attempt (durable)."""

    execution_id: str
    schedule: Schedule  # as it was when it fired
    due: float  # the fire's scheduled time
    first_attempt: float
    attempts: int  # made so far
    not_before: float


@dataclass(frozen=True)
class NextFire:
    """When a schedule fires next: `due` is its scheduled time, `at` that plus its flexible-window delay."""

    due: float
    at: float
