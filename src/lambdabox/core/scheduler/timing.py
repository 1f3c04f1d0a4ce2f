"""When a schedule fires: its expression in its time zone, bounded by StartDate and EndDate, each fire
delayed within its flexible time window.

- at(): once, at that wall-clock time in the schedule's zone (StartDate and EndDate are ignored, as AWS);
- rate(): from StartDate, or from the moment the schedule is created ("immediately", as AWS), then every
  period; a StartDate in the past continues the series from it;
- cron(): the first matching minute at or after StartDate (strictly after now), then every match;
- no fire later than EndDate.
A FLEXIBLE window delays each fire by a pseudo-random amount in [0, MaximumWindowInMinutes): a hash of
the schedule ARN and the scheduled time, so the same fire gets the same delay after a restart.
"""

from __future__ import annotations

import hashlib
import math

from lambdabox.core.events.schedule import Rate, parse_in_zone
from lambdabox.core.events.schedule import Schedule as Expression
from lambdabox.core.scheduler.models import FlexibleMode, NextFire, Schedule


def window_delay(arn: str, due: float, schedule: Schedule) -> float:
    window = schedule.flexible_time_window
    if window.mode is FlexibleMode.OFF or not window.maximum_window_minutes:
        return 0.0
    digest = hashlib.sha256(f"{arn}|{due:.3f}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return fraction * window.maximum_window_minutes * 60


class Timing:
    def __init__(self, schedule: Schedule, arn: str) -> None:
        self._schedule = schedule
        self._arn = arn
        self._expression: Expression = parse_in_zone(schedule.expression, schedule.timezone)

    def _bounded(self, due: float | None) -> NextFire | None:
        end = self._schedule.end_date
        if due is None or (end is not None and not self._schedule.one_time and due > end):
            return None
        return NextFire(due, due + window_delay(self._arn, due, self._schedule))

    def first(self, now: float) -> NextFire | None:
        """The first fire of a schedule created (or changed) at `now`."""
        start = None if self._schedule.one_time else self._schedule.start_date
        expression = self._expression
        if isinstance(expression, Rate):
            origin = now if start is None else start
            if origin < now:
                origin += math.ceil((now - origin) / expression.period) * expression.period
            return self._bounded(origin)
        if start is not None and start > now:
            return self._bounded(expression.first_after(start - 1e-6))
        return self._bounded(expression.first_after(now))

    def following(self, due: float, now: float) -> NextFire | None:
        """The first fire strictly after `now` once the fire scheduled at `due` is settled."""
        return self._bounded(self._expression.following(due, now))
