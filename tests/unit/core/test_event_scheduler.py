"""The EventBridge scheduler over a real SQLite store: when rules fire, that a fire is never doubled,
that missed fires are not replayed after a restart, and that a fire and its invocations commit together."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lambdabox.core.clock import Clock
from lambdabox.core.events.models import Rule, RuleState, Target
from lambdabox.core.events.names import EventsNames
from lambdabox.core.events.scheduler import Scheduler
from lambdabox.core.events.service import EventsService
from lambdabox.core.models import QueuedEvent
from lambdabox.core.names import Account
from lambdabox.storage.events_sqlite import SqliteEventsStore
from lambdabox.storage.sqlite import Database, SqliteEventQueue

NAMES = EventsNames(Account("000000000000", "us-east-1"))
ARN = "arn:aws:events:us-east-1:000000000000:rule/tick"


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class FakeTime:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """Records deliveries; optionally queues one invocation per target in the same database, or fails."""

    def __init__(self, queue: SqliteEventQueue | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.queue = queue
        self.fail = False

    def deliver(self, rule: Rule, targets: Sequence[Target], event: Mapping[str, Any]) -> int:
        if self.queue is not None:
            for _ in targets:
                self.queue.enqueue(QueuedEvent(str(uuid.uuid4()), "fn", "$LATEST", "arn", b"{}", 0.0))
        if self.fail:
            raise RuntimeError("the platform broke")
        self.events.append(dict(event))
        return len(targets)


class World:
    def __init__(self, path: Path, now: float) -> None:
        self.path = path
        self.time = FakeTime(now)
        self.clock = Clock(source=self.time)
        self.open()

    def open(self) -> None:
        self.db = Database(self.path)
        self.store = SqliteEventsStore(self.db)
        self.queue = SqliteEventQueue(self.db)
        self.recorder = Recorder(self.queue)
        self.events = EventsService(self.store, self.recorder, NAMES, self.clock)
        self.scheduler = Scheduler(self.store, self.recorder, NAMES, self.clock)
        self.scheduler.resume(self.clock.now())

    def restart(self, now: float) -> None:
        self.db.close()
        self.time.now = now
        self.open()

    def put_rule(self, schedule: str, state: RuleState = RuleState.ENABLED) -> None:
        common: dict[str, Any] = {"description": None, "role_arn": None, "tags": {}, "event_pattern": None}
        self.events.put_rule("tick", None, schedule=schedule, state=state, **common)
        self.events.put_targets(
            "tick", None, [Target("t1", "arn:aws:lambda:us-east-1:000000000000:function:f")]
        )

    def run(self, now: str) -> list[str]:
        self.time.now = at(now)
        return [datetime.fromtimestamp(f.due, UTC).strftime("%H:%M") for f in self.scheduler.run_due(at(now))]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    instance = World(tmp_path / "db.sqlite", at("2024-03-10 10:15:30"))
    yield instance
    instance.db.close()


def test_rate_rule_fires_at_its_next_minute_once_as_a_scheduled_event(world: World) -> None:
    world.put_rule("rate(1 minute)")
    assert world.scheduler.upcoming() == [(ARN, at("2024-03-10 10:16:00"))]
    assert world.run("2024-03-10 10:15:59") == []
    assert world.run("2024-03-10 10:16:00.2") == ["10:16"]
    assert world.run("2024-03-10 10:16:30") == []  # never doubled
    assert world.run("2024-03-10 10:17:00") == ["10:17"]
    event = world.recorder.events[0]
    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": "2024-03-10T10:16:00Z",
        "region": "us-east-1",
        "resources": [ARN],
        "detail": {},
    }
    assert len(world.queue.claim(time.time(), 10)) == 2  # each fire queued its target's invocation


def test_fires_elapsed_while_running_are_one_late_fire(world: World) -> None:
    world.put_rule("rate(1 minute)")
    assert world.run("2024-03-10 10:19:10") == ["10:16"]
    assert world.scheduler.upcoming() == [(ARN, at("2024-03-10 10:20:00"))]


def test_restart_neither_doubles_nor_replays(world: World) -> None:
    world.put_rule("cron(*/5 * * * ? *)")
    assert world.run("2024-03-10 10:20:00.5") == ["10:20"]
    # back within the same minute: the fire was committed, it is not owed again
    world.restart(at("2024-03-10 10:20:10"))
    assert world.run("2024-03-10 10:20:20") == []
    assert world.run("2024-03-10 10:25:00") == ["10:25"]
    # down from 10:26 to 10:41: 10:30, 10:35 and 10:40 were missed and are not replayed
    world.restart(at("2024-03-10 10:41:00"))
    assert world.run("2024-03-10 10:41:00") == []
    assert world.scheduler.upcoming() == [(ARN, at("2024-03-10 10:45:00"))]
    assert world.run("2024-03-10 10:45:00") == ["10:45"]
    assert [e["time"] for e in world.recorder.events] == ["2024-03-10T10:45:00Z"]


def test_disabled_rule_does_not_fire_and_resumes_on_its_schedule_when_enabled(world: World) -> None:
    world.put_rule("rate(1 minute)", RuleState.DISABLED)
    assert world.run("2024-03-10 10:16:00") == []
    assert world.run("2024-03-10 10:17:30") == []
    world.events.set_state("tick", None, RuleState.ENABLED)
    assert world.run("2024-03-10 10:18:00") == ["10:18"]
    assert world.recorder.events and len(world.recorder.events) == 1


def test_put_rule_keeps_the_schedule_phase_unless_the_schedule_changes(world: World) -> None:
    world.put_rule("rate(5 minutes)")
    assert world.run("2024-03-10 10:16:00") == ["10:16"]
    world.time.now = at("2024-03-10 10:18:30")
    world.put_rule("rate(5 minutes)")  # same schedule: still 10:21
    assert world.scheduler.upcoming() == [(ARN, at("2024-03-10 10:21:00"))]
    world.put_rule("rate(10 minutes)")  # a new schedule starts at the next minute
    assert world.scheduler.upcoming() == [(ARN, at("2024-03-10 10:19:00"))]
    world.events.remove_targets("tick", None, ["t1"])
    world.events.delete_rule("tick", None)
    assert world.scheduler.upcoming() == []


def test_a_failed_fire_queues_nothing_and_is_skipped(world: World) -> None:
    world.put_rule("rate(1 minute)")
    world.recorder.fail = True
    assert world.run("2024-03-10 10:16:00") == []
    assert world.queue.claim(time.time(), 10) == []  # the invocation queued inside the fire was rolled back
    assert world.scheduler.upcoming() == [(ARN, at("2024-03-10 10:17:00"))]
    world.recorder.fail = False
    assert world.run("2024-03-10 10:17:00") == ["10:17"]


def test_background_loop_fires_on_time(world: World) -> None:
    world.time.now = time.time()
    world.put_rule("rate(1 minute)")
    due = world.scheduler.upcoming()[0][1]
    real_start = time.time()
    world.clock = Clock(offset=due - 0.2 - real_start)  # the platform clock reads 0.2 s before the due time
    scheduler = Scheduler(world.store, world.recorder, NAMES, world.clock, tick=5.0)

    async def run() -> float:
        scheduler.start()
        try:
            while not world.recorder.events:
                await asyncio.sleep(0.01)
            return time.time() - real_start
        finally:
            await scheduler.stop()

    waited = asyncio.run(asyncio.wait_for(run(), 5))
    assert 0.15 < waited < 1.0
    assert world.recorder.events[0]["time"] == datetime.fromtimestamp(due, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
