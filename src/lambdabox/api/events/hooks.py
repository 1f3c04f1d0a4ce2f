"""`/_lambdabox/scheduler`: test hooks into the EventBridge scheduler, served only when the server runs
with `LAMBDABOX_TEST_HOOKS=1` (they are unauthenticated, like every /_lambdabox/ endpoint):

- `GET /_lambdabox/scheduler` → `{"now", "startedAt", "rules": [{"arn", "nextFire"}], "schedules": [...]}`
  (epoch seconds; `schedules`: EventBridge Scheduler's, `nextFire` including any flexible-window delay);
- `POST /_lambdabox/scheduler/tick[?now=<epoch seconds>]` → sets the platform clock to `now` (it keeps
  running from there) and runs one scheduler pass at once: `{"now", "fired": [{"rule", "time", "targets",
  "delivered"}]}` (`rule`: the ARN of the rule or schedule that fired), then wakes the scheduler loop.
  Tests use it to reach a due time without waiting for it.
"""

from __future__ import annotations

import math

import orjson

from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.clock import Clock
from lambdabox.core.events.scheduler import Scheduler


def _json(status: int, document: object) -> WireResponse:
    return WireResponse(status, {"Content-Type": "application/json"}, orjson.dumps(document))


class SchedulerHook:
    def __init__(self, scheduler: Scheduler, clock: Clock, enabled: bool) -> None:
        self._scheduler = scheduler
        self._clock = clock
        self._enabled = enabled

    async def handle(self, request: WireRequest) -> WireResponse:
        path = request.raw_path.rstrip("/")
        if self._enabled and path == "/_lambdabox/scheduler" and request.method == "GET":
            return self._state()
        if self._enabled and path == "/_lambdabox/scheduler/tick" and request.method == "POST":
            return self._tick(dict(request.query()).get("now"))
        return _json(404, {"message": f"No such Lambdabox endpoint: {request.raw_path}"})

    def _state(self) -> WireResponse:
        kinds = {
            kind: [{"arn": arn, "nextFire": due} for arn, due in items]
            for kind, items in self._scheduler.state().items()
        }
        return _json(200, {"now": self._clock.now(), "startedAt": self._scheduler.started_at, **kinds})

    def _tick(self, now: str | None) -> WireResponse:
        if now is not None:
            try:
                moment = float(now)
            except ValueError:
                moment = math.nan
            if not math.isfinite(moment):
                return _json(400, {"message": f"now must be epoch seconds, not {now!r}"})
            self._clock.set(moment)
        at = self._clock.now()
        fired = [
            {"rule": f.arn, "time": f.due, "targets": f.targets, "delivered": f.delivered}
            for f in self._scheduler.run_due(at)
        ]
        self._scheduler.wake()  # the loop's sleep was computed on the old clock
        return _json(200, {"now": at, "fired": fired})
