"""EventBridge schedule expressions: `rate(value unit)` and `cron(min hour day-of-month month day-of-week year)`.

Both are UTC and minute-grained. A schedule answers two questions, as epoch seconds:
- `first_after(t)`: the first fire of a rule whose schedule is set at `t` (rate: the next whole minute, then
  every period from there; cron: the next matching minute);
- `following(due, now)`: the first fire strictly after `now` once the fire at `due` is settled (fired or
  skipped) — fires that fell between `due` and `now` are not owed again.

Cron follows AWS's dialect of Quartz: day-of-week 1-7 is SUN-SAT, exactly one of day-of-month and
day-of-week is `?`, `L` (last), `W` (nearest weekday), `LW`, `nL` (last n-day of the month) and `n#k` (k-th
n-day of the month), names JAN-DEC and SUN-SAT, ranges (wrapping for cyclic fields), lists and steps.

EventBridge Scheduler adds `at(yyyy-mm-ddThh:mm:ss)` (one fire) and a time zone (`parse_in_zone`): cron
and at() are read on that zone's wall clock. Daylight saving time as AWS: a wall-clock time the spring
change skips does not fire; one the autumn change repeats fires once, at its first occurrence. Rates are
fixed durations whatever the zone.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambdabox.errors import AwsError

MIN_YEAR = 1970
MAX_YEAR = 2199
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def invalid_schedule() -> AwsError:
    return AwsError("ValidationException", "Parameter ScheduleExpression is not valid.")


class Schedule(Protocol):
    @property
    def expression(self) -> str: ...

    def first_after(self, t: float) -> float | None: ...
    def following(self, due: float, now: float) -> float | None: ...


@lru_cache(maxsize=1024)
def parse_schedule(expression: str) -> Schedule:
    """The schedule of `expression`, or ValidationException as EventBridge answers it."""
    if expression.startswith("rate("):
        return Rate.parse(expression)
    if expression.startswith("cron(") and expression.endswith(")"):
        return Cron.parse(expression)
    raise invalid_schedule()


def _next_minute(t: float) -> float:
    return (math.floor(t / 60) + 1) * 60.0


# -- rate ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    expression: str
    period: int  # seconds

    @classmethod
    def parse(cls, expression: str) -> Rate:
        match = _RATE.fullmatch(expression)
        if match is None:
            raise invalid_schedule()
        value, unit = int(match[1]), match[2]
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise invalid_schedule()
        return cls(expression, value * _UNIT_SECONDS[unit.rstrip("s")])

    def first_after(self, t: float) -> float:
        return _next_minute(t)

    def following(self, due: float, now: float) -> float:
        if now < due:
            return due + self.period
        return due + (math.floor((now - due) / self.period) + 1) * self.period


# -- cron ------------------------------------------------------------------------------------------------
def _number(text: str, low: int, high: int, names: dict[str, int] | None = None) -> int:
    if names is not None and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise invalid_schedule()
    value = int(text)
    if not low <= value <= high:
        raise invalid_schedule()
    return value


def _values(
    text: str,
    low: int,
    high: int,
    *,
    names: dict[str, int] | None = None,
    steps: bool = True,
    wrap: bool = True,
) -> frozenset[int]:
    """A field of numbers, names, `*`, ranges `a-b` and steps `a/n`, `a-b/n`, `*/n`, comma-separated."""
    result: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        if slash and not steps:
            raise invalid_schedule()
        step = _number(step_text, 1, 10_000) if slash else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, low, high, names), _number(last, low, high, names)
        else:
            start = _number(base, low, high, names)
            end = high if slash else start
        if start <= end:
            span = list(range(start, end + 1))
        elif wrap:
            span = [*range(start, high + 1), *range(low, end + 1)]
        else:
            raise invalid_schedule()
        result.update(span[::step])
    return frozenset(result)


def _weekday(year: int, month: int, day: int) -> int:
    """AWS day-of-week number: 1 = Sunday ... 7 = Saturday."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int) -> int | None:
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return None
    weekday = _weekday(year, month, day)
    if weekday == 7:  # Saturday: the Friday before, unless that leaves the month
        return day - 1 if day > 1 else day + 2
    if weekday == 1:  # Sunday: the Monday after, unless that leaves the month
        return day + 1 if day < last else day - 2
    return day


DayRule = Callable[[int, int], Sequence[int]]


def _day_of_month_rule(text: str) -> DayRule:
    if text == "*":
        return lambda y, m: range(1, calendar.monthrange(y, m)[1] + 1)
    if text == "L":
        return lambda y, m: [calendar.monthrange(y, m)[1]]
    if text == "LW":
        return lambda y, m: [d for d in [_nearest_weekday(y, m, calendar.monthrange(y, m)[1])] if d]
    if text.endswith("W"):
        target = _number(text[:-1], 1, 31)
        return lambda y, m: [d for d in [_nearest_weekday(y, m, target)] if d]
    days = _values(text, 1, 31, wrap=False)
    return lambda y, m: [d for d in sorted(days) if d <= calendar.monthrange(y, m)[1]]


def _day_of_week_rule(text: str) -> DayRule:
    def matching(y: int, m: int, weekdays: frozenset[int]) -> list[int]:
        last = calendar.monthrange(y, m)[1]
        return [d for d in range(1, last + 1) if _weekday(y, m, d) in weekdays]

    if "#" in text:
        weekday_text, _, nth_text = text.partition("#")
        weekday, nth = _number(weekday_text, 1, 7, _WEEKDAYS), _number(nth_text, 1, 5)
        return lambda y, m: matching(y, m, frozenset([weekday]))[nth - 1 : nth]
    if text == "L":
        return lambda y, m: matching(y, m, frozenset([7]))
    if text.endswith("L"):
        weekday = _number(text[:-1], 1, 7, _WEEKDAYS)
        return lambda y, m: matching(y, m, frozenset([weekday]))[-1:]
    weekdays = _values(text, 1, 7, names=_WEEKDAYS, steps=False)
    return lambda y, m: matching(y, m, weekdays)


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    days: DayRule
    zone: tzinfo = UTC

    @classmethod
    def parse(cls, expression: str) -> Cron:
        fields = expression[len("cron(") : -1].split(" ")
        if len(fields) != 6 or not all(fields):
            raise invalid_schedule()
        minute, hour, day_of_month, month, day_of_week, year = fields
        if (day_of_month == "?") == (day_of_week == "?"):
            raise invalid_schedule()  # exactly one of the two day fields is "?"
        for text in (minute, hour, month, year):
            if "?" in text:
                raise invalid_schedule()
        days = _day_of_week_rule(day_of_week) if day_of_month == "?" else _day_of_month_rule(day_of_month)
        return cls(
            expression,
            minutes=tuple(sorted(_values(minute, 0, 59))),
            hours=tuple(sorted(_values(hour, 0, 23))),
            months=tuple(sorted(_values(month, 1, 12, names=_MONTHS))),
            years=tuple(sorted(_values(year, MIN_YEAR, MAX_YEAR, wrap=False))),
            days=days,
        )

    def next_after(self, t: float) -> float | None:
        """The first matching minute strictly after `t` (None: the schedule never fires again)."""
        local = datetime.fromtimestamp(t, self.zone).replace(second=0, microsecond=0, tzinfo=None)
        for wall in self._walls(local + timedelta(minutes=1)):
            instant = _instant(wall, self.zone)
            if instant is not None and instant > t:
                return instant
        return None

    def _walls(self, start: datetime) -> Iterator[datetime]:
        """Matching wall-clock minutes from `start` (naive), in order."""
        begin = (start.year, start.month, start.day)
        for year in self.years:
            if year < start.year:
                continue
            for month in self.months:
                if (year, month) < begin[:2]:
                    continue
                for day in self.days(year, month):
                    if (year, month, day) < begin:
                        continue
                    today = (year, month, day) == begin
                    for hour in self.hours:
                        if today and hour < start.hour:
                            continue
                        for minute in self.minutes:
                            if today and hour == start.hour and minute < start.minute:
                                continue
                            yield datetime(year, month, day, hour, minute)

    def first_after(self, t: float) -> float | None:
        return self.next_after(t)

    def following(self, due: float, now: float) -> float | None:
        return self.next_after(max(due, now))


def _instant(wall: datetime, zone: tzinfo) -> float | None:
    """Epoch seconds of a naive wall-clock time in `zone`: the first of two when the autumn change repeats
    it, None when the spring change skips it."""
    aware = wall.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return aware.timestamp()


# -- EventBridge Scheduler: at() and time zones -----------------------------------------------------------
_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")


@dataclass(frozen=True)
class At:
    """`at(yyyy-mm-ddThh:mm:ss)`: one fire at that wall-clock time. A time already in the past (before the
    current minute) never fires."""

    expression: str
    instant: float

    @classmethod
    def parse(cls, expression: str, zone: tzinfo) -> At:
        match = _AT.fullmatch(expression)
        if match is None:
            raise invalid_schedule()
        try:
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            wall = datetime(year, month, day, hour, minute, second)
        except ValueError:
            raise invalid_schedule() from None
        return cls(expression, wall.replace(tzinfo=zone, fold=0).timestamp())

    def first_after(self, t: float) -> float | None:
        return self.instant if self.instant >= math.floor(t / 60) * 60 else None

    def following(self, due: float, now: float) -> float | None:
        return None


def time_zone(name: str) -> tzinfo | None:
    """The IANA time zone `name`, or None when there is no such zone."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


@lru_cache(maxsize=1024)
def parse_in_zone(expression: str, zone_name: str) -> Schedule:
    """An EventBridge Scheduler expression (at, rate or cron) read in the IANA zone `zone_name` (which
    the caller has checked); ValidationException as EventBridge words it for rules otherwise."""
    zone = time_zone(zone_name) or UTC
    if expression.startswith("at("):
        return At.parse(expression, zone)
    schedule = parse_schedule(expression)
    return replace(schedule, zone=zone) if isinstance(schedule, Cron) else schedule
