"""Requests to domain records and domain records to output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdabox.api.events.common import compact
from lambdabox.core.scheduler.models import (
    AfterCompletion,
    FlexibleMode,
    FlexibleTimeWindow,
    RetryPolicy,
    Schedule,
    ScheduleGroup,
    ScheduleState,
    ScheduleTarget,
)
from lambdabox.core.scheduler.names import SchedulerNames
from lambdabox.core.scheduler.service import ScheduleRequest

_OWN_TARGET_MEMBERS = ("Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig")


def _epoch(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def target_of(shape: dict[str, Any]) -> ScheduleTarget:
    retry = shape.get("RetryPolicy") or {}
    defaults = RetryPolicy()
    return ScheduleTarget(
        arn=shape["Arn"],
        role_arn=shape["RoleArn"],
        input=shape.get("Input"),
        retry_policy=RetryPolicy(
            retry.get("MaximumRetryAttempts", defaults.maximum_retry_attempts),
            retry.get("MaximumEventAgeInSeconds", defaults.maximum_event_age_seconds),
        ),
        dead_letter_arn=(shape.get("DeadLetterConfig") or {}).get("Arn"),
        parameters={k: v for k, v in shape.items() if k not in _OWN_TARGET_MEMBERS},
    )


def schedule_request(params: dict[str, Any]) -> ScheduleRequest:
    window = params["FlexibleTimeWindow"]
    return ScheduleRequest(
        name=params["Name"],
        group=params.get("GroupName"),
        expression=params["ScheduleExpression"],
        target=target_of(params["Target"]),
        flexible_time_window=FlexibleTimeWindow(
            FlexibleMode(window["Mode"]), window.get("MaximumWindowInMinutes")
        ),
        timezone=params.get("ScheduleExpressionTimezone"),
        state=ScheduleState(params.get("State", ScheduleState.ENABLED.value)),
        start_date=_epoch(params.get("StartDate")),
        end_date=_epoch(params.get("EndDate")),
        description=params.get("Description"),
        kms_key_arn=params.get("KmsKeyArn"),
        action_after_completion=AfterCompletion(
            params.get("ActionAfterCompletion", AfterCompletion.NONE.value)
        ),
        client_token=params.get("ClientToken"),
    )


def target_shape(target: ScheduleTarget) -> dict[str, Any]:
    return compact(
        {
            "Arn": target.arn,
            "RoleArn": target.role_arn,
            "Input": target.input,
            "RetryPolicy": {
                "MaximumRetryAttempts": target.retry_policy.maximum_retry_attempts,
                "MaximumEventAgeInSeconds": target.retry_policy.maximum_event_age_seconds,
            },
            "DeadLetterConfig": None if target.dead_letter_arn is None else {"Arn": target.dead_letter_arn},
            **target.parameters,
        }
    )


def schedule_shape(names: SchedulerNames, schedule: Schedule) -> dict[str, Any]:
    window = schedule.flexible_time_window
    return compact(
        {
            "Arn": names.schedule_arn(schedule.group, schedule.name),
            "GroupName": schedule.group,
            "Name": schedule.name,
            "ScheduleExpression": schedule.expression,
            "StartDate": schedule.start_date,
            "EndDate": schedule.end_date,
            "Description": schedule.description,
            "ScheduleExpressionTimezone": schedule.timezone,
            "State": schedule.state.value,
            "CreationDate": schedule.created,
            "LastModificationDate": schedule.modified,
            "KmsKeyArn": schedule.kms_key_arn,
            "Target": target_shape(schedule.target),
            "FlexibleTimeWindow": compact(
                {"Mode": window.mode.value, "MaximumWindowInMinutes": window.maximum_window_minutes}
            ),
            "ActionAfterCompletion": schedule.action_after_completion.value,
        }
    )


def schedule_summary(names: SchedulerNames, schedule: Schedule) -> dict[str, Any]:
    return {
        "Arn": names.schedule_arn(schedule.group, schedule.name),
        "Name": schedule.name,
        "GroupName": schedule.group,
        "State": schedule.state.value,
        "CreationDate": schedule.created,
        "LastModificationDate": schedule.modified,
        "Target": {"Arn": schedule.target.arn},
    }


def group_shape(names: SchedulerNames, group: ScheduleGroup) -> dict[str, Any]:
    return {
        "Arn": names.group_arn(group.name),
        "Name": group.name,
        "State": "ACTIVE",
        "CreationDate": group.created,
        "LastModificationDate": group.modified,
    }
