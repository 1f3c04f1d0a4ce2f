"""EventBridge Scheduler's schedules as a source of the shared scheduler loop (`core/events/scheduler.py`).

A due schedule fires in one transaction with its settlement: its next fire (or, when it has none left
and `ActionAfterCompletion` is DELETE, its deletion) commits with the invocation it queued, so a fire is
never doubled, even across a crash. Recurring fires that fell due while the server was down are skipped
(not replayed); a one-time `at()` schedule that fell due meanwhile fires once, at start. A disabled
schedule's fires are skipped — its series goes on; a disabled one-time schedule passes without firing.

A fire its target refuses with a retryable error (the function does not exist yet, ...) is kept as a
pending delivery and tried again with exponential backoff (1 s, doubling, at most 5 minutes) until the
schedule's RetryPolicy is exhausted — MaximumRetryAttempts retries or MaximumEventAgeInSeconds since the
first attempt — then given up to the dead-letter queue. Pending deliveries are durable and go on after a
restart. SQS does not exist yet: what would go to the dead-letter queue is logged.
"""

from __future__ import annotations

import logging
from typing import Protocol

from lambdabox.core.events.models import iso_time
from lambdabox.core.events.scheduler import Fire
from lambdabox.core.scheduler.models import AfterCompletion, PendingDelivery, Schedule
from lambdabox.core.scheduler.names import SchedulerNames
from lambdabox.core.scheduler.store import SchedulerStore
from lambdabox.core.scheduler.targets import Delivered
from lambdabox.core.scheduler.timing import Timing

log = logging.getLogger("lambdabox.scheduler")

RETRY_BACKOFF_MAX_S = 300.0


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt once `attempts` attempts failed."""
    return min(RETRY_BACKOFF_MAX_S, 2.0 ** min(attempts - 1, 16))


class Deliverer(Protocol):
    """Hands one fire to a schedule's target (`targets.ScheduleDelivery`)."""

    def deliver(
        self,
        schedule: Schedule,
        schedule_arn: str,
        due: float,
        execution_id: str | None = None,
        attempt: int = 1,
    ) -> Delivered: ...


class ScheduleFires:
    kind = "schedules"

    def __init__(self, store: SchedulerStore, delivery: Deliverer, names: SchedulerNames) -> None:
        self._store = store
        self._delivery = delivery
        self._names = names

    def run_due(self, now: float, started_at: float | None) -> list[Fire]:
        return [*self._fire_due(now, started_at), *self._retry_due(now)]

    def _fire_due(self, now: float, started_at: float | None) -> list[Fire]:
        fires: list[Fire] = []
        for schedule, next_fire in self._store.due_schedules(now):
            arn = self._names.schedule_arn(schedule.group, schedule.name)
            following = Timing(schedule, arn).following(next_fire.due, now)
            missed = started_at is not None and next_fire.at < started_at and not schedule.one_time
            if not schedule.enabled or missed:
                self._store.set_next_fire(schedule.group, schedule.name, following)
                continue
            try:
                with self._store.transaction():
                    delivered = self._delivery.deliver(schedule, arn, next_fire.due)
                    if delivered.problem is not None:
                        self._refused(schedule, arn, next_fire.due, delivered, now, now, 1)
                    if following is None and schedule.action_after_completion is AfterCompletion.DELETE:
                        self._store.delete_schedule(schedule.group, schedule.name)
                    else:
                        self._store.set_next_fire(schedule.group, schedule.name, following)
            except Exception:
                log.exception("fire of schedule %s at %s failed; skipped", arn, iso_time(next_fire.due))
                self._store.set_next_fire(schedule.group, schedule.name, following)
                continue
            fires.append(Fire(arn, next_fire.due, 1, 0 if delivered.problem else 1))
        return fires

    def _retry_due(self, now: float) -> list[Fire]:
        fires: list[Fire] = []
        for pending in self._store.due_retries(now):
            schedule = pending.schedule
            arn = self._names.schedule_arn(schedule.group, schedule.name)
            attempt = pending.attempts + 1
            try:
                with self._store.transaction():
                    self._store.delete_retry(pending.execution_id)
                    if now - pending.first_attempt > schedule.target.retry_policy.maximum_event_age_seconds:
                        self._give_up(
                            schedule, arn, pending.execution_id, "MaximumEventAgeInSeconds exceeded"
                        )
                        continue
                    delivered = self._delivery.deliver(
                        schedule, arn, pending.due, pending.execution_id, attempt
                    )
                    if delivered.problem is not None:
                        self._refused(
                            schedule, arn, pending.due, delivered, pending.first_attempt, now, attempt
                        )
            except Exception:
                log.exception("retry of schedule %s (execution %s) failed", arn, pending.execution_id)
                continue
            fires.append(Fire(arn, pending.due, 1, 0 if delivered.problem else 1))
        return fires

    def _refused(
        self,
        schedule: Schedule,
        arn: str,
        due: float,
        delivered: Delivered,
        first_attempt: float,
        now: float,
        attempts: int,
    ) -> None:
        """Keep a refused fire for another attempt while its RetryPolicy allows one; else give it up."""
        policy = schedule.target.retry_policy
        problem = delivered.problem or ""
        if delivered.retryable and attempts <= policy.maximum_retry_attempts:
            log.info(
                "schedule %s (execution %s) attempt %d refused: %s",
                arn,
                delivered.execution_id,
                attempts,
                problem,
            )
            self._store.put_retry(
                PendingDelivery(
                    delivered.execution_id,
                    schedule,
                    due,
                    first_attempt,
                    attempts,
                    now + retry_delay(attempts),
                )
            )
            return
        self._give_up(schedule, arn, delivered.execution_id, problem)

    @staticmethod
    def _give_up(schedule: Schedule, arn: str, execution_id: str, problem: str) -> None:
        dead_letter = schedule.target.dead_letter_arn
        log.warning(
            "schedule %s (execution %s) not delivered to %s: %s%s",
            arn,
            execution_id,
            schedule.target.arn,
            problem,
            "" if dead_letter is None else f"; dead-letter queue {dead_letter} is not served yet (no SQS)",
        )

    def next_due(self) -> float | None:
        dues = [due for due in (self._store.next_due(), self._store.next_retry()) if due is not None]
        return min(dues, default=None)

    def upcoming(self) -> list[tuple[str, float]]:
        return [(self._names.schedule_arn(s.group, s.name), n.at) for s, n in self._store.scheduled()]
