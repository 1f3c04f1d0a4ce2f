"""The asynchronous invocation worker: takes accepted events off the durable queue and runs them,
with the function's retry and event-age settings (at-least-once, as AWS)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence

from lambdabox.core.destinations import Destinations, invocation_record
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.functions import FunctionService
from lambdabox.core.invoke import InvokeService
from lambdabox.core.models import EventInvokeConfig, InvocationResult, QueuedEvent
from lambdabox.core.names import FunctionRef
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import EventQueue

log = logging.getLogger("lambdabox.async")

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21_600
THROTTLE_BACKOFF_MAX_S = 300.0


class AsyncInvoker:
    def __init__(
        self,
        queue: EventQueue,
        functions: FunctionService,
        settings: FunctionSettings,
        invoker: InvokeService,
        retry_delays: Sequence[float],
        flush_logs: Callable[[], None] = lambda: None,
        destinations: Destinations | None = None,
        parallelism: int = 64,
    ) -> None:
        self._queue = queue
        self._functions = functions
        self._settings = settings
        self._invoker = invoker
        self._retry_delays = tuple(retry_delays) or (60.0, 120.0)
        # An event is done only once what its invocation logged is stored: a crash in between then
        # runs it again rather than losing its log.
        self._flush_logs = flush_logs
        self._destinations = destinations
        self._parallelism = parallelism
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        recovered = self._queue.release_claims()
        if recovered:
            log.info("re-queued %d asynchronous invocations interrupted by a restart", recovered)
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._running):
            task.cancel()
        # claimed-but-unfinished events stay in the queue and run again after the next start

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            free = self._parallelism - len(self._running)
            events = self._queue.claim(time.time(), free) if free > 0 else []
            for event in events:
                task = asyncio.get_running_loop().create_task(self._process(event))
                self._running.add(task)
                task.add_done_callback(self._done)
            if events and len(events) == free:
                await self._wait(0.05)
                continue
            due = self._queue.next_due()
            delay = 1.0 if due is None else max(0.0, min(1.0, due - time.time()))
            await self._wait(delay)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()

    async def _wait(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    def _finish(
        self,
        event: QueuedEvent,
        config: EventInvokeConfig | None,
        condition: str,
        attempts: int,
        result: InvocationResult | None,
    ) -> None:
        """The event's last word: its destination gets the record, then the event leaves the queue."""
        success = condition == "Success"
        destination = None if config is None else (config.on_success if success else config.on_failure)
        if destination and self._destinations is not None:
            self._destinations.deliver(
                destination, invocation_record(event, condition, attempts, result), success
            )
        self._queue.complete(event.id)

    async def _process(self, event: QueuedEvent) -> None:
        config = self._settings.effective_event_invoke_config(event.function_name, event.qualifier)
        retries = DEFAULT_RETRIES
        max_age = float(DEFAULT_MAX_AGE_S)
        if config is not None:
            if config.maximum_retry_attempts is not None:
                retries = config.maximum_retry_attempts
            if config.maximum_event_age_seconds is not None:
                max_age = float(config.maximum_event_age_seconds)
        age = time.time() - event.enqueued_at
        if age > max_age:
            log.warning("dropping event %s for %s: older than %.0f s", event.id, event.function_name, max_age)
            self._finish(event, config, "EventAgeExceeded", event.attempts, None)
            return
        try:
            resolved = self._functions.resolve(FunctionRef(event.function_name, event.qualifier))
            result = await self._invoker.run(resolved, event.payload, event.id)
        except AwsError as error:
            if error.code == "ResourceNotFoundException":
                self._queue.complete(event.id)
                return
            # Throttles and platform errors are not attempts: back off from 1 s up to 5 min, until the event
            # is too old. Waiting as long as the event has waited so far doubles the wait each time.
            backoff = min(THROTTLE_BACKOFF_MAX_S, max(1.0, age))
            self._queue.reschedule(event.id, event.attempts, time.time() + backoff)
            return
        except Exception:
            log.exception("asynchronous invocation %s failed inside the platform", event.id)
            self._queue.reschedule(event.id, event.attempts, time.time() + 1.0)
            return
        attempts = event.attempts + 1
        self._flush_logs()
        if result.function_error is None:
            self._finish(event, config, "Success", attempts, result)
            return
        if attempts > retries:
            log.info("event %s for %s failed after %d attempts", event.id, event.function_name, attempts)
            self._finish(event, config, "RetriesExhausted", attempts, result)
            return
        delay = self._retry_delays[min(attempts - 1, len(self._retry_delays) - 1)]
        self._queue.reschedule(event.id, attempts, time.time() + delay)
