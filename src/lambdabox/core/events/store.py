"""The storage contract of the EventBridge core (embedded backend: `storage/events_sqlite.py`).

Writes inside `transaction()` commit together — with the asynchronous-invocation queue too when both live
in one database, which is what lets the scheduler settle a fire and queue its invocations atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from lambdabox.core.events.models import EventBus, Rule, Target


class EventsStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def get_bus(self, name: str) -> EventBus | None: ...
    def list_buses(self) -> list[EventBus]: ...  # by name
    def put_bus(self, bus: EventBus) -> None: ...
    def delete_bus(self, name: str) -> None: ...  # with its rules and their targets
    def get_rule(self, bus: str, name: str) -> Rule | None: ...
    def list_rules(self, bus: str) -> list[Rule]: ...  # by name
    def count_rules(self, bus: str) -> int: ...
    def put_rule(self, rule: Rule, next_fire: float | None) -> None: ...
    def delete_rule(self, bus: str, name: str) -> None: ...  # with its targets
    def list_targets(self, bus: str, rule: str) -> list[Target]: ...  # by id
    def put_targets(self, bus: str, rule: str, targets: Sequence[Target]) -> None: ...  # add or replace by id
    def delete_targets(self, bus: str, rule: str, ids: Sequence[str]) -> None: ...
    def rules_with_target(self, bus: str, arn: str) -> list[str]: ...  # rule names, sorted
    def next_fire(self, bus: str, name: str) -> float | None: ...
    def set_next_fire(self, bus: str, name: str, next_fire: float | None) -> None: ...
    def due_rules(self, now: float) -> list[tuple[Rule, float]]: ...  # next_fire <= now, earliest first
    def scheduled_rules(self) -> list[tuple[Rule, float]]: ...  # every rule with a next fire
    def next_due(self) -> float | None: ...  # the earliest next fire of any rule
