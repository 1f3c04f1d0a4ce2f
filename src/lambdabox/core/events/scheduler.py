"""The scheduler: one durable loop that fires everything time-driven — EventBridge scheduled rules (a
"Scheduled Event" to their targets) and, through the `ScheduleSource` protocol, other sources such as
EventBridge Scheduler's schedules (`core/scheduler/firing.py`).

State is one persisted next fire per scheduled item (see `schedule.py` for how it is computed). A pass
at `now` asks every source to settle its items with a next fire `<= now`:
- enabled, and due at or after the moment this scheduler started: the fire happens — the item's new
  next fire (the first due time after `now`) and the invocations of its targets are committed in one
  transaction, so a fire is never doubled, even across a crash;
- disabled, or due before the scheduler started (the server was down): the fire is skipped — only
  the next fire moves on. Fires missed while the server was down are not replayed (each source may
  refine this: a one-time schedule that fell due during the downtime fires once at start).
Several due times that elapse while one pass waits for the next are one fire (at the oldest of them).

The loop sleeps until the earliest next fire of any source or for `tick` seconds, whichever is sooner,
so an item fires within a few milliseconds of its due time; changes to rules and schedules wake it. All
times come from the injected `Clock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lambdabox.core.clock import Clock
from lambdabox.core.events.delivery import Delivery
from lambdabox.core.events.models import Rule, iso_time
from lambdabox.core.events.names import EventsNames
from lambdabox.core.events.schedule import parse_schedule
from lambdabox.core.events.store import EventsStore

log = logging.getLogger("lambdabox.events.scheduler")

MIN_SLEEP = 0.01


@dataclass(frozen=True)
class Fire:
    arn: str  # the rule or schedule that fired
    due: float
    targets: int
    delivered: int


class ScheduleSource(Protocol):
    """Time-driven items the scheduler settles: `kind` names them in the test hook's state."""

    kind: str

    def run_due(self, now: float, started_at: float | None) -> list[Fire]: ...
    def next_due(self) -> float | None: ...
    def upcoming(self) -> list[tuple[str, float]]: ...  # (ARN, next fire), earliest first


class RuleSchedules:
    """The scheduled rules of EventBridge as a `ScheduleSource`."""

    kind = "rules"

    def __init__(self, store: EventsStore, dispatcher: Delivery, names: EventsNames) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._names = names

    def scheduled_event(self, rule: Rule, due: float) -> dict[str, object]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._names.account.account_id,
            "time": iso_time(due),
            "region": self._names.account.region,
            "resources": [self._names.rule_arn(rule.bus, rule.name)],
            "detail": {},
        }

    def run_due(self, now: float, started_at: float | None) -> list[Fire]:
        fires: list[Fire] = []
        for rule, due in self._store.due_rules(now):
            assert rule.schedule is not None
            following = parse_schedule(rule.schedule).following(due, now)
            missed = started_at is not None and due < started_at
            if not rule.enabled or missed:
                self._store.set_next_fire(rule.bus, rule.name, following)
                continue
            try:
                with self._store.transaction():
                    self._store.set_next_fire(rule.bus, rule.name, following)
                    targets = self._store.list_targets(rule.bus, rule.name)
                    delivered = self._dispatcher.deliver(rule, targets, self.scheduled_event(rule, due))
            except Exception:
                log.exception("scheduled fire of rule %s at %s failed; skipped", rule.name, iso_time(due))
                self._store.set_next_fire(rule.bus, rule.name, following)
                continue
            fires.append(Fire(self._names.rule_arn(rule.bus, rule.name), due, len(targets), delivered))
        return fires

    def next_due(self) -> float | None:
        return self._store.next_due()

    def upcoming(self) -> list[tuple[str, float]]:
        return [(self._names.rule_arn(r.bus, r.name), due) for r, due in self._store.scheduled_rules()]


class Scheduler:
    def __init__(
        self,
        store: EventsStore,
        dispatcher: Delivery,
        names: EventsNames,
        clock: Clock,
        tick: float = 1.0,
        sources: Sequence[ScheduleSource] = (),
    ) -> None:
        self._rules = RuleSchedules(store, dispatcher, names)
        self._sources: list[ScheduleSource] = [self._rules, *sources]
        self._clock = clock
        self._tick = tick
        self._started_at: float | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def started_at(self) -> float | None:
        return self._started_at

    def add_source(self, source: ScheduleSource) -> None:
        """Serve one more source (the composition root adds them before `start`)."""
        self._sources.append(source)

    def resume(self, at: float) -> None:
        """Mark the moment the scheduler (re)starts: due times before it were missed, not owed."""
        self._started_at = at

    def scheduled_event(self, rule: Rule, due: float) -> dict[str, object]:
        return self._rules.scheduled_event(rule, due)

    def run_due(self, now: float) -> list[Fire]:
        """One pass at `now`: fire or skip every item that is due. Never raises for one item's failure."""
        fires: list[Fire] = []
        for source in self._sources:
            try:
                fires.extend(source.run_due(now, self._started_at))
            except Exception:
                log.exception("scheduler pass over %s failed", source.kind)
        return fires

    def upcoming(self) -> list[tuple[str, float]]:
        """(rule ARN, next fire) of every scheduled rule, earliest first."""
        return self._rules.upcoming()

    def state(self) -> dict[str, list[tuple[str, float]]]:
        """(ARN, next fire) of every item of every source, by source kind."""
        return {source.kind: source.upcoming() for source in self._sources}

    def next_due(self) -> float | None:
        dues = [due for due in (source.next_due() for source in self._sources) if due is not None]
        return min(dues, default=None)

    # -- the background loop ---------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self.resume(self._clock.now())
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                self.run_due(self._clock.now())
                due = self.next_due()
            except Exception:
                log.exception("scheduler pass failed")
                due = None
            delay = self._tick
            if due is not None:
                delay = max(MIN_SLEEP, min(delay, due - self._clock.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
