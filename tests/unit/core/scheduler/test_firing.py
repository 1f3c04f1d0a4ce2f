"""EventBridge Scheduler's schedules on the shared scheduler over a real SQLite store: one-time schedules
fire once (and delete themselves when asked), recurring fires are neither doubled nor replayed across
restarts, a one-time schedule due during downtime fires at start, and a fire commits with its invocation."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lambdabox.core.clock import Clock
from lambdabox.core.events.names import EventsNames
from lambdabox.core.events.scheduler import Scheduler
from lambdabox.core.models import QueuedEvent
from lambdabox.core.names import Account
from lambdabox.core.scheduler.firing import ScheduleFires
from lambdabox.core.scheduler.models import (
    AfterCompletion,
    FlexibleTimeWindow,
    RetryPolicy,
    Schedule,
    ScheduleState,
    ScheduleTarget,
)
from lambdabox.core.scheduler.names import SchedulerNames
from lambdabox.core.scheduler.service import ScheduleRequest, SchedulerService
from lambdabox.core.scheduler.targets import Delivered
from lambdabox.storage.events_sqlite import SqliteEventsStore
from lambdabox.storage.scheduler_sqlite import SqliteSchedulerStore
from lambdabox.storage.sqlite import Database, SqliteEventQueue

ACCOUNT = Account("000000000000", "us-east-1")
TARGET = ScheduleTarget(
    "arn:aws:lambda:us-east-1:000000000000:function:f", "arn:aws:iam::000000000000:role/r"
)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class Recorder:
    """Queues one invocation per fire in the same database (or fails after queueing it, or refuses)."""

    def __init__(self, queue: SqliteEventQueue) -> None:
        self.queue = queue
        self.fired: list[tuple[str, float]] = []
        self.attempts: list[tuple[str, int]] = []
        self.fail = False
        self.refuse: str | None = None  # an error code the target answers

    def deliver(
        self,
        schedule: Schedule,
        schedule_arn: str,
        due: float,
        execution_id: str | None = None,
        attempt: int = 1,
    ) -> Delivered:
        execution_id = execution_id or str(uuid.uuid4())
        self.attempts.append((execution_id, attempt))
        if self.refuse is not None:
            return Delivered(execution_id, f"{self.refuse}: no", self.refuse == "ResourceNotFoundException")
        self.queue.enqueue(QueuedEvent(str(uuid.uuid4()), "f", "$LATEST", "arn", b"{}", 0.0))
        if self.fail:
            raise RuntimeError("the platform broke")
        self.fired.append((schedule.name, due))
        return Delivered(execution_id)


class World:
    def __init__(self, path: Path, now: float) -> None:
        self.path = path
        self.now = now
        self.clock = Clock(source=lambda: self.now)
        self.open()

    def open(self) -> None:
        self.db = Database(self.path)
        self.store = SqliteSchedulerStore(self.db)
        self.queue = SqliteEventQueue(self.db)
        self.recorder = Recorder(self.queue)
        names = SchedulerNames(ACCOUNT)
        self.service = SchedulerService(self.store, names, self.clock)
        self.scheduler = Scheduler(
            SqliteEventsStore(self.db),
            self.recorder_for_rules(),
            EventsNames(ACCOUNT),
            self.clock,
            sources=[ScheduleFires(self.store, self.recorder, names)],
        )
        self.scheduler.resume(self.clock.now())

    @staticmethod
    def recorder_for_rules() -> object:
        class NoRules:
            def deliver(self, *_: object) -> int:
                raise AssertionError("no rule fires here")

        return NoRules()

    def restart(self, now: float) -> None:
        self.db.close()
        self.now = now
        self.open()

    def create(self, name: str, expression: str, **fields: object) -> None:
        request = ScheduleRequest(name, None, expression, TARGET, FlexibleTimeWindow(), **fields)  # type: ignore[arg-type]
        self.service.create(request)

    def run(self, when: str) -> list[str]:
        self.now = at(when)
        fires = self.scheduler.run_due(self.now)
        return [f"{f.arn.rsplit('/', 1)[1]}@{datetime.fromtimestamp(f.due, UTC):%H:%M}" for f in fires]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    instance = World(tmp_path / "db.sqlite", at("2024-03-10 10:15:30"))
    yield instance
    instance.db.close()


def test_one_time_schedule_fires_once_and_deletes_itself_when_asked(world: World) -> None:
    world.create("keep", "at(2024-03-10T10:20:00)")
    world.create("drop", "at(2024-03-10T10:20:00)", action_after_completion=AfterCompletion.DELETE)
    assert world.run("2024-03-10 10:19:59") == []
    assert sorted(world.run("2024-03-10 10:20:00.3")) == ["drop@10:20", "keep@10:20"]
    assert world.run("2024-03-10 10:21:00") == []
    assert [s.name for s in world.service.list(None, None, None)] == ["keep"]
    assert world.store.next_fire("default", "keep") is None
    assert len(world.queue.claim(time.time(), 10)) == 2


def test_recurring_schedule_is_neither_doubled_nor_replayed_across_restarts(world: World) -> None:
    world.create("tick", "cron(*/5 * * * ? *)")
    assert world.run("2024-03-10 10:20:00.5") == ["tick@10:20"]
    world.restart(at("2024-03-10 10:20:10"))  # back within the minute: the fire was committed
    assert world.run("2024-03-10 10:20:20") == []
    assert world.run("2024-03-10 10:25:00") == ["tick@10:25"]
    world.restart(at("2024-03-10 10:41:00"))  # down over 10:30, 10:35 and 10:40: not replayed
    assert world.run("2024-03-10 10:41:00") == []
    assert world.run("2024-03-10 10:45:00") == ["tick@10:45"]
    assert [due for _, due in world.recorder.fired] == [at("2024-03-10 10:45:00")]


def test_one_time_schedule_due_during_downtime_fires_once_at_start(world: World) -> None:
    world.create("once", "at(2024-03-10T10:30:00)", action_after_completion=AfterCompletion.DELETE)
    world.restart(at("2024-03-10 10:42:00"))
    assert world.run("2024-03-10 10:42:00.1") == ["once@10:30"]
    world.restart(at("2024-03-10 10:43:00"))
    assert world.run("2024-03-10 10:43:00.1") == []
    assert world.service.list(None, None, None) == []


def test_disabled_schedules_skip_their_fires(world: World) -> None:
    world.create("tick", "rate(1 minute)", state=ScheduleState.DISABLED)
    world.create("once", "at(2024-03-10T10:17:00)", state=ScheduleState.DISABLED)
    assert world.run("2024-03-10 10:15:30.2") == []
    assert world.run("2024-03-10 10:17:30") == []
    assert world.store.next_fire("default", "once") is None
    assert world.store.next_fire("default", "tick") is not None


def test_a_failed_fire_queues_nothing_and_is_skipped(world: World) -> None:
    world.create("tick", "rate(1 minute)")
    world.recorder.fail = True
    assert world.run("2024-03-10 10:15:30.5") == []
    assert world.queue.claim(time.time(), 10) == []  # rolled back with the fire
    world.recorder.fail = False
    assert world.run("2024-03-10 10:16:30") == ["tick@10:16"]


def test_update_keeps_the_place_in_time_unless_the_timing_changes(world: World) -> None:
    world.create("tick", "rate(10 minutes)")
    assert world.run("2024-03-10 10:15:30") == ["tick@10:15"]
    before = world.store.next_fire("default", "tick")
    world.now = at("2024-03-10 10:18:00")
    request = ScheduleRequest("tick", None, "rate(10 minutes)", TARGET, FlexibleTimeWindow(), description="x")
    world.service.update(request)
    assert world.store.next_fire("default", "tick") == before
    world.service.update(ScheduleRequest("tick", None, "rate(5 minutes)", TARGET, FlexibleTimeWindow()))
    after = world.store.next_fire("default", "tick")
    assert after is not None and after.due == at("2024-03-10 10:18:00")


def test_refused_fires_are_retried_with_backoff_per_the_retry_policy_and_survive_restarts(
    world: World,
) -> None:
    target = ScheduleTarget(TARGET.arn, TARGET.role_arn, retry_policy=RetryPolicy(3, 3600))
    request = ScheduleRequest("later", None, "at(2024-03-10T10:20:00)", target, FlexibleTimeWindow())
    world.service.create(request)
    world.recorder.refuse = "ResourceNotFoundException"
    assert world.run("2024-03-10 10:20:00") == ["later@10:20"]  # attempt 1, refused
    assert world.run("2024-03-10 10:20:00.5") == []  # backoff: 1 s
    assert world.run("2024-03-10 10:20:01") == ["later@10:20"]  # attempt 2
    world.restart(at("2024-03-10 10:20:01.5"))
    world.recorder.refuse = "ResourceNotFoundException"
    assert world.run("2024-03-10 10:20:03") == ["later@10:20"]  # attempt 3, after 2 s
    world.recorder.refuse = None
    assert world.run("2024-03-10 10:20:07") == ["later@10:20"]  # attempt 4 (3rd retry) is accepted
    assert world.recorder.fired == [("later", at("2024-03-10 10:20:00"))]
    executions = {execution for execution, _ in world.recorder.attempts}
    assert len(executions) == 1 and [n for _, n in world.recorder.attempts] == [3, 4]
    assert world.store.next_retry() is None


def test_retries_stop_at_the_maximum_and_final_refusals_are_not_retried(world: World) -> None:
    target = ScheduleTarget(TARGET.arn, TARGET.role_arn, retry_policy=RetryPolicy(1, 3600))
    world.service.create(ScheduleRequest("a", None, "at(2024-03-10T10:20:00)", target, FlexibleTimeWindow()))
    world.recorder.refuse = "ResourceNotFoundException"
    assert world.run("2024-03-10 10:20:00") == ["a@10:20"]
    assert world.run("2024-03-10 10:20:01") == ["a@10:20"]  # the one retry
    assert world.store.next_retry() is None  # given up (to the dead-letter queue)
    world.service.create(ScheduleRequest("b", None, "at(2024-03-10T10:30:00)", target, FlexibleTimeWindow()))
    world.recorder.refuse = "InvalidRequestContentException"
    assert world.run("2024-03-10 10:30:00") == ["b@10:30"]
    assert world.store.next_retry() is None


def test_a_recurring_schedule_that_reaches_its_end_date_deletes_itself_when_asked(world: World) -> None:
    world.create(
        "short",
        "rate(1 minute)",
        end_date=at("2024-03-10 10:17:00"),
        action_after_completion=AfterCompletion.DELETE,
    )
    assert world.run("2024-03-10 10:15:30.1") == ["short@10:15"]
    assert [s.name for s in world.service.list(None, None, None)] == ["short"]
    assert world.run("2024-03-10 10:16:30") == ["short@10:16"]  # the last fire before the end date
    assert world.service.list(None, None, None) == []
    assert world.run("2024-03-10 10:17:30") == []
