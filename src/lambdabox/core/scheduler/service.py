"""EventBridge Scheduler operations: schedule groups (the `default` group always exists), schedules and
group tags, with the checks and errors EventBridge Scheduler applies."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from lambdabox.core.clock import Clock
from lambdabox.core.events.schedule import time_zone
from lambdabox.core.scheduler.models import (
    DEFAULT_GROUP,
    AfterCompletion,
    FlexibleMode,
    FlexibleTimeWindow,
    NextFire,
    Schedule,
    ScheduleGroup,
    ScheduleState,
    ScheduleTarget,
)
from lambdabox.core.scheduler.names import (
    SchedulerNames,
    conflict,
    group_not_found,
    invalid,
    schedule_not_found,
)
from lambdabox.core.scheduler.store import SchedulerStore
from lambdabox.core.scheduler.targets import check_target
from lambdabox.core.scheduler.timing import Timing
from lambdabox.errors import AwsError

START_DATE_SLACK_S = 300


@dataclass(frozen=True)
class ScheduleRequest:
    """What CreateSchedule and UpdateSchedule state (UpdateSchedule replaces every field)."""

    name: str
    group: str | None
    expression: str
    target: ScheduleTarget
    flexible_time_window: FlexibleTimeWindow
    timezone: str | None = None
    state: ScheduleState = ScheduleState.ENABLED
    start_date: float | None = None
    end_date: float | None = None
    description: str | None = None
    kms_key_arn: str | None = None
    action_after_completion: AfterCompletion = AfterCompletion.NONE
    client_token: str | None = None


class SchedulerService:
    def __init__(
        self,
        store: SchedulerStore,
        names: SchedulerNames,
        clock: Clock,
        on_schedule_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self.names = names
        self._clock = clock
        self._on_schedule_change = on_schedule_change
        if store.get_group(DEFAULT_GROUP) is None:
            now = clock.now()
            store.put_group(ScheduleGroup(DEFAULT_GROUP, now, now))

    # -- schedule groups -------------------------------------------------------------------------------
    def group(self, name: str | None) -> ScheduleGroup:
        group = self._store.get_group(name or DEFAULT_GROUP)
        if group is None:
            raise group_not_found(name or DEFAULT_GROUP)
        return group

    def create_group(
        self, name: str, tags: Mapping[str, str], client_token: str | None = None
    ) -> ScheduleGroup:
        with self._store.transaction():
            existing = self._store.get_group(name)
            if existing is not None:
                if client_token is not None and existing.client_token == client_token:
                    return existing  # the same request again (an SDK retry): idempotent, as AWS
                raise conflict(f"Schedule group {name} already exists.")
            now = self._clock.now()
            group = ScheduleGroup(name, now, now, dict(tags), client_token)
            self._store.put_group(group)
        return group

    def delete_group(self, name: str) -> None:
        """Deletes the group's schedules with it (AWS does so asynchronously while the group is DELETING;
        here it is done when the call returns)."""
        if name == DEFAULT_GROUP:
            raise invalid(f"This operation cannot be performed on schedule group {DEFAULT_GROUP}.")
        with self._store.transaction():
            self.group(name)
            self._store.delete_group(name)
        self._on_schedule_change()

    def list_groups(self, prefix: str | None) -> list[ScheduleGroup]:
        return [g for g in self._store.list_groups() if g.name.startswith(prefix or "")]

    # -- tags (schedule groups only) -------------------------------------------------------------------
    def tags(self, arn: str) -> dict[str, str]:
        return dict(self.group(self.names.group_of(arn)).tags)

    def tag(self, arn: str, add: Mapping[str, str], remove: Sequence[str] = ()) -> None:
        name = self.names.group_of(arn)
        with self._store.transaction():
            group = self.group(name)
            tags = {k: v for k, v in group.tags.items() if k not in remove} | dict(add)
            self._store.put_group(replace(group, tags=tags, modified=self._clock.now()))

    # -- schedules -------------------------------------------------------------------------------------
    def schedule(self, name: str, group_name: str | None) -> Schedule:
        group = self.group(group_name).name
        schedule = self._store.get_schedule(group, name)
        if schedule is None:
            raise schedule_not_found(name)
        return schedule

    def create(self, request: ScheduleRequest) -> str:
        now = self._clock.now()
        with self._store.transaction():
            group = self.group(request.group).name
            existing = self._store.get_schedule(group, request.name)
            if existing is not None:
                if request.client_token is not None and existing.client_token == request.client_token:
                    return self.names.schedule_arn(group, request.name)  # an SDK retry: idempotent
                raise conflict(f"Schedule {request.name} already exists.")
            schedule = self._check(request, group, now, now)
            arn = self.names.schedule_arn(group, request.name)
            self._store.put_schedule(schedule, Timing(schedule, arn).first(now))
        self._on_schedule_change()
        return arn

    def update(self, request: ScheduleRequest) -> str:
        """A full replacement, as AWS: members left out take their defaults. The schedule keeps its place
        in time while its expression, time zone, start date and window are unchanged."""
        now = self._clock.now()
        with self._store.transaction():
            existing = self.schedule(request.name, request.group)
            schedule = replace(
                self._check(request, existing.group, existing.created, now),
                client_token=existing.client_token,
            )
            arn = self.names.schedule_arn(existing.group, existing.name)
            timing_fields = ("expression", "timezone", "start_date", "end_date", "flexible_time_window")
            kept: NextFire | None = None
            if all(getattr(existing, f) == getattr(schedule, f) for f in timing_fields):
                kept = self._store.next_fire(existing.group, existing.name)
            self._store.put_schedule(schedule, kept if kept is not None else Timing(schedule, arn).first(now))
        self._on_schedule_change()
        return arn

    def delete(self, name: str, group_name: str | None) -> None:
        with self._store.transaction():
            schedule = self.schedule(name, group_name)
            self._store.delete_schedule(schedule.group, schedule.name)
        self._on_schedule_change()

    def list(self, group_name: str | None, prefix: str | None, state: ScheduleState | None) -> list[Schedule]:
        group = None if group_name is None else self.group(group_name).name
        return [
            s
            for s in self._store.list_schedules(group)
            if s.name.startswith(prefix or "") and (state is None or s.state is state)
        ]

    def _check(self, request: ScheduleRequest, group: str, created: float, now: float) -> Schedule:
        timezone = request.timezone or "UTC"
        if time_zone(timezone) is None:
            raise invalid(f"Invalid ScheduleExpressionTimezone {timezone}.")
        window = request.flexible_time_window
        if window.mode is FlexibleMode.FLEXIBLE and window.maximum_window_minutes is None:
            raise invalid("MaximumWindowInMinutes must be provided when Mode is FLEXIBLE.")
        if window.mode is FlexibleMode.OFF and window.maximum_window_minutes is not None:
            raise invalid("MaximumWindowInMinutes is not allowed when Mode is OFF.")
        recurring = not request.expression.startswith("at(")
        if recurring and request.start_date is not None and request.start_date < now - START_DATE_SLACK_S:
            raise invalid("The StartDate you specify cannot be earlier than 5 minutes ago.")
        if recurring and request.end_date is not None:
            if request.end_date < now:
                raise invalid("The EndDate you specify cannot be earlier than the current time.")
            if request.start_date is not None and request.end_date <= request.start_date:
                raise invalid("The StartDate must come before the EndDate.")
        check_target(request.target, self.names.account)
        schedule = Schedule(
            name=request.name,
            group=group,
            expression=request.expression,
            target=request.target,
            created=created,
            modified=now,
            timezone=timezone,
            state=request.state,
            flexible_time_window=window,
            start_date=request.start_date,
            end_date=request.end_date,
            description=request.description,
            kms_key_arn=request.kms_key_arn,
            action_after_completion=request.action_after_completion,
            client_token=request.client_token,
        )
        try:
            Timing(schedule, "")
        except AwsError:
            raise invalid(f"Invalid Schedule Expression {request.expression}.") from None
        return schedule
