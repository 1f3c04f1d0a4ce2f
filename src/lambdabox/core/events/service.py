"""EventBridge operations: event buses, rules, targets, tags, PutEvents and TestEventPattern, with the
checks and errors EventBridge applies. The `default` bus always exists."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from lambdabox.core.clock import Clock
from lambdabox.core.events import bus_policy
from lambdabox.core.events.delivery import Delivery
from lambdabox.core.events.models import DEFAULT_BUS, EventBus, Rule, RuleState, Target, iso_time
from lambdabox.core.events.names import EventsNames, bus_not_found, invalid, rule_not_found
from lambdabox.core.events.patterns import compile_pattern
from lambdabox.core.events.schedule import parse_schedule
from lambdabox.core.events.store import EventsStore
from lambdabox.core.events.transform import check_target
from lambdabox.errors import AwsError

MAX_TARGETS_PER_RULE = 5
MAX_RULES_PER_BUS = 300
MAX_PUT_EVENTS_BYTES = 256 * 1024
_TIME_ENTRY_BYTES = 14
# Targets EventBridge can only invoke by assuming a role (Lambda, SNS, SQS and CloudWatch Logs use
# resource-based policies instead).
_ROLE_SERVICES = frozenset(
    ["batch", "codebuild", "codepipeline", "ecs", "events", "firehose", "glue", "inspector", "kinesis",
     "redshift", "sagemaker", "ssm", "ssm-incidents", "states"]
)  # fmt: skip


def limit_exceeded() -> AwsError:
    return AwsError("LimitExceededException", "The requested resource exceeds the maximum number allowed.")


@dataclass(frozen=True)
class EventEntry:
    """One PutEvents entry as the request states it."""

    source: str | None = None
    detail_type: str | None = None
    detail: str | None = None
    resources: Sequence[str] = ()
    time: float | None = None
    bus: str | None = None

    def size(self) -> int:
        """AWS's entry size: Time counts 14 bytes, strings their UTF-8 length."""
        size = _TIME_ENTRY_BYTES if self.time is not None else 0
        for text in (self.source, self.detail_type, self.detail, *self.resources):
            size += len(text.encode()) if text else 0
        return size


@dataclass(frozen=True)
class BusSettings:
    """What CreateEventBus and UpdateEventBus set on a bus besides its name and tags."""

    description: str | None = None
    kms_key: str | None = None
    dead_letter_arn: str | None = None
    log_config: dict[str, str] | None = None

    def apply(self, bus: EventBus) -> EventBus:
        return replace(
            bus,
            description=self.description,
            kms_key=self.kms_key,
            dead_letter_arn=self.dead_letter_arn,
            log_config=self.log_config,
        )


@dataclass(frozen=True)
class EntryResult:
    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class FailedTarget:
    target_id: str
    error_code: str
    error_message: str


class EventsService:
    def __init__(
        self,
        store: EventsStore,
        dispatcher: Delivery,
        names: EventsNames,
        clock: Clock,
        on_schedule_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self.names = names
        self._clock = clock
        self._on_schedule_change = on_schedule_change
        if store.get_bus(DEFAULT_BUS) is None:
            now = clock.now()
            store.put_bus(EventBus(DEFAULT_BUS, now, now))

    # -- event buses -----------------------------------------------------------------------------------
    def bus(self, name_or_arn: str | None) -> EventBus:
        name = self.names.bus_name(name_or_arn)
        bus = self._store.get_bus(name)
        if bus is None:
            raise bus_not_found(name)
        return bus

    def create_bus(
        self,
        name: str,
        event_source: str | None,
        settings: BusSettings,
        tags: Mapping[str, str],
    ) -> EventBus:
        if event_source is not None:
            raise AwsError("ResourceNotFoundException", f"Event source {event_source} does not exist.")
        if "/" in name:
            raise invalid("Event bus name must not contain '/'.")
        with self._store.transaction():
            if self._store.get_bus(name) is not None:
                raise AwsError("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
            now = self._clock.now()
            bus = settings.apply(EventBus(name, now, now, tags=dict(tags)))
            self._store.put_bus(bus)
        return bus

    def update_bus(self, name: str | None, settings: BusSettings) -> EventBus:
        """UpdateEventBus: the bus's description and settings become those given (absent ones cleared)."""
        return self._change_bus(name, settings.apply)

    def put_permission(
        self,
        bus_name: str | None,
        action: str | None,
        principal: str | None,
        statement_id: str | None,
        condition: Mapping[str, str] | None,
        policy: str | None,
    ) -> None:
        """PutPermission: a whole policy (`policy`), or one statement added or replaced."""
        if policy is not None:
            if any(value is not None for value in (action, principal, statement_id, condition)):
                raise invalid("Policy cannot be combined with Action, Principal, StatementId or Condition.")
            self._change_bus(bus_name, lambda bus: replace(bus, policy=bus_policy.with_policy(policy)))
            return
        self._change_bus(
            bus_name,
            lambda bus: replace(
                bus,
                policy=bus_policy.with_statement(
                    bus.policy, self.names.bus_arn(bus.name), action, principal, statement_id, condition
                ),
            ),
        )

    def remove_permission(self, bus_name: str | None, statement_id: str | None, remove_all: bool) -> None:
        self._change_bus(
            bus_name,
            lambda bus: replace(
                bus, policy=None if remove_all else bus_policy.without_statement(bus.policy, statement_id)
            ),
        )

    def policy_of(self, name: str) -> str | None:
        """The resource-based policy of bus `name` (None: it has none, or it does not exist)."""
        bus = self._store.get_bus(name)
        return bus.policy if bus is not None else None

    def _change_bus(self, name: str | None, change: Callable[[EventBus], EventBus]) -> EventBus:
        with self._store.transaction():
            bus = replace(change(self.bus(name)), modified=self._clock.now())
            self._store.put_bus(bus)
        return bus

    def delete_bus(self, name: str) -> None:
        if name == DEFAULT_BUS:
            raise invalid("Cannot delete event bus default.")
        self._store.delete_bus(name)
        self._on_schedule_change()

    def list_buses(self, prefix: str | None) -> list[EventBus]:
        return [bus for bus in self._store.list_buses() if bus.name.startswith(prefix or "")]

    # -- rules -----------------------------------------------------------------------------------------
    def rule(self, name: str, bus_name: str | None) -> Rule:
        bus = self.bus(bus_name).name
        rule = self._store.get_rule(bus, name)
        if rule is None:
            raise rule_not_found(name, bus)
        return rule

    def put_rule(
        self,
        name: str,
        bus_name: str | None,
        *,
        event_pattern: str | None,
        schedule: str | None,
        state: RuleState,
        description: str | None,
        role_arn: str | None,
        tags: Mapping[str, str],
    ) -> str:
        bus = self.bus(bus_name).name
        if event_pattern is None and schedule is None:
            raise invalid("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if schedule is not None:
            if bus != DEFAULT_BUS:
                raise invalid("ScheduleExpression is supported only on the default event bus.")
            parse_schedule(schedule)
        if event_pattern is not None:
            compile_pattern(event_pattern)
        with self._store.transaction():
            existing = self._store.get_rule(bus, name)
            if existing is None and self._store.count_rules(bus) >= MAX_RULES_PER_BUS:
                raise limit_exceeded()
            rule = Rule(
                name=name,
                bus=bus,
                state=state,
                event_pattern=event_pattern,
                schedule=schedule,
                description=description,
                role_arn=role_arn,
                # tags are set when a rule is created; PutRule on an existing rule ignores them
                tags=dict(existing.tags) if existing is not None else dict(tags),
            )
            self._store.put_rule(rule, self._next_fire(existing, schedule))
        self._on_schedule_change()
        return self.names.rule_arn(bus, name)

    def _next_fire(self, existing: Rule | None, schedule: str | None) -> float | None:
        """The rule keeps its place in time while its schedule is unchanged; a new schedule starts now."""
        if schedule is None:
            return None
        if existing is not None and existing.schedule == schedule:
            kept = self._store.next_fire(existing.bus, existing.name)
            if kept is not None:
                return kept
        return parse_schedule(schedule).first_after(self._clock.now())

    def set_state(self, name: str, bus_name: str | None, state: RuleState) -> None:
        with self._store.transaction():
            rule = self.rule(name, bus_name)
            self._store.put_rule(replace(rule, state=state), self._store.next_fire(rule.bus, rule.name))

    def delete_rule(self, name: str, bus_name: str | None) -> None:
        """`Force` only concerns rules managed by AWS services, which do not exist here: targets must go
        first whatever it says."""
        bus = self.bus(bus_name).name
        with self._store.transaction():
            if self._store.get_rule(bus, name) is None:
                return  # deleting a rule that does not exist succeeds
            if self._store.list_targets(bus, name):
                raise invalid("Rule can't be deleted since it has targets.")
            self._store.delete_rule(bus, name)
        self._on_schedule_change()

    def list_rules(self, bus_name: str | None, prefix: str | None) -> list[Rule]:
        bus = self.bus(bus_name).name
        return [rule for rule in self._store.list_rules(bus) if rule.name.startswith(prefix or "")]

    def rules_by_target(self, target_arn: str, bus_name: str | None) -> list[str]:
        return self._store.rules_with_target(self.bus(bus_name).name, target_arn)

    # -- targets ---------------------------------------------------------------------------------------
    def put_targets(
        self, rule_name: str, bus_name: str | None, targets: Sequence[Target]
    ) -> list[FailedTarget]:
        for target in targets:
            parts = target.arn.split(":")
            if len(parts) < 6 or parts[0] != "arn" or not parts[2]:
                raise invalid(
                    f"Parameter {target.arn} is not valid. Reason: Provided Arn is not in correct format."
                )
            if parts[2] in _ROLE_SERVICES and target.role_arn is None:
                raise invalid(f"RoleArn is required for target {target.arn}.")
            check_target(target)
        with self._store.transaction():
            rule = self.rule(rule_name, bus_name)
            existing = {t.id for t in self._store.list_targets(rule.bus, rule.name)}
            if len(existing | {t.id for t in targets}) > MAX_TARGETS_PER_RULE:
                raise limit_exceeded()
            self._store.put_targets(rule.bus, rule.name, list({t.id: t for t in targets}.values()))
        return []

    def remove_targets(self, rule_name: str, bus_name: str | None, ids: Sequence[str]) -> list[FailedTarget]:
        with self._store.transaction():
            rule = self.rule(rule_name, bus_name)
            self._store.delete_targets(rule.bus, rule.name, ids)
        return []

    def targets(self, rule_name: str, bus_name: str | None) -> list[Target]:
        rule = self.rule(rule_name, bus_name)
        return self._store.list_targets(rule.bus, rule.name)

    # -- tags ------------------------------------------------------------------------------------------
    def tags(self, arn: str) -> dict[str, str]:
        bus, rule = self.names.resource(arn)
        if rule is None:
            return dict(self.bus(bus).tags)
        return dict(self.rule(rule, bus).tags)

    def tag(self, arn: str, add: Mapping[str, str], remove: Sequence[str] = ()) -> None:
        bus_name, rule_name = self.names.resource(arn)
        with self._store.transaction():
            if rule_name is None:
                bus = self.bus(bus_name)
                tags = {k: v for k, v in bus.tags.items() if k not in remove} | dict(add)
                self._store.put_bus(replace(bus, tags=tags, modified=self._clock.now()))
            else:
                rule = self.rule(rule_name, bus_name)
                tags = {k: v for k, v in rule.tags.items() if k not in remove} | dict(add)
                self._store.put_rule(replace(rule, tags=tags), self._store.next_fire(rule.bus, rule.name))

    # -- events ----------------------------------------------------------------------------------------
    def put_events(self, entries: Sequence[EventEntry]) -> list[EntryResult]:
        if sum(entry.size() for entry in entries) > MAX_PUT_EVENTS_BYTES:
            raise invalid("Total size of the entries in the request is over the limit.")
        return [self._put_event(entry) for entry in entries]

    def _put_event(self, entry: EventEntry) -> EntryResult:
        for value, name in (
            (entry.source, "Source"),
            (entry.detail_type, "DetailType"),
            (entry.detail, "Detail"),
        ):
            if not value:
                return EntryResult(
                    error_code="InvalidArgument",
                    error_message=f"Parameter {name} is not valid. Reason: {name} is a required argument.",
                )
        assert entry.source is not None and entry.detail is not None
        try:
            detail = orjson.loads(entry.detail)
        except orjson.JSONDecodeError:
            detail = None
        if not isinstance(detail, dict):
            return EntryResult(error_code="MalformedDetail", error_message="Detail is malformed.")
        if entry.source.startswith("aws."):
            return EntryResult(
                error_code="NotAuthorizedForSourceException", error_message="Not authorized for the source."
            )
        try:
            bus = self.bus(entry.bus).name
        except AwsError as error:
            return EntryResult(error_code=error.code, error_message=error.message)
        event_id = str(uuid.uuid4())
        event = {
            "version": "0",
            "id": event_id,
            "detail-type": entry.detail_type,
            "source": entry.source,
            "account": self.names.account.account_id,
            "time": iso_time(entry.time if entry.time is not None else self._clock.now()),
            "region": self.names.account.region,
            "resources": list(entry.resources),
            "detail": detail,
        }
        self.route(bus, event)
        return EntryResult(event_id=event_id)

    def route(self, bus: str, event: Mapping[str, Any]) -> int:
        """Deliver `event` to the targets of every enabled rule of `bus` whose pattern matches it."""
        delivered = 0
        for rule in self._store.list_rules(bus):
            if (
                rule.enabled
                and rule.event_pattern is not None
                and compile_pattern(rule.event_pattern).matches(event)
            ):
                delivered += self._dispatcher.deliver(rule, self._store.list_targets(bus, rule.name), event)
        return delivered

    @staticmethod
    def test_event_pattern(pattern: str, event_text: str) -> bool:
        compiled = compile_pattern(pattern)
        try:
            event = orjson.loads(event_text)
        except orjson.JSONDecodeError:
            event = None
        required = ("id", "account", "source", "time", "region", "detail-type")
        if not isinstance(event, dict) or any(key not in event for key in required):
            raise invalid("Parameter Event is not valid.")
        return compiled.matches(event)
