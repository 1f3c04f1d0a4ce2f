"""Schedule expressions: what EventBridge accepts, and when each fires next (UTC, fixed datetimes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambdabox.core.events.schedule import Cron, Rate, parse_schedule
from lambdabox.errors import AwsError


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M %a")


INVALID = [
    # rate: the forms EventBridge refuses
    "rate(1 minutes)", "rate(10 minute)", "rate(1 hours)", "rate(10 hour)", "rate(1 days)", "rate(10 day)",
    "rate(10 MINUTES)", "rate(0 minutes)", "rate(-10 minutes)", "rate(10 seconds)", "rate(10 years)",
    "rate(10 minutess)", "rate(foo minutes)", "rate()", "rate(10)", "rate( 10 minutes )", " rate(10 minutes)",
    "rate(10  minutes)", "rate(10 minutes) ",
    # cron: shape, the "?" rule, ranges, and which field takes which wildcard
    "cron(0 1 * * * *)", "cron(0 1 ? * ? *)", "cron(0 12 * * ?)", "cron(0 12 * * ? * *)", "cron(0  12 * * ? *)",
    "cron(60 * * * ? *)", "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)", "cron(0 0 0 * ? *)", "cron(0 0 * 13 ? *)",
    "cron(0 0 ? * 8 *)", "cron(0 0 ? * 0 *)", "cron(0 0 * * ? 1969)", "cron(0 0 * * ? 2200)",
    "cron(0 0 ? * MON/2 *)", "cron(0 0 1#2 * ? *)", "cron(0#1 0 * * ? *)", "cron(0 0 ? * 2#6 *)",
    "cron(0 0 ? * 2#1,3#1 *)", "cron(L 0 * * ? *)", "cron(0 0 * * L *)", "cron(0 0 L,15 * ? *)",
    "cron(0 0 ? JAN-DEX * *)", "cron(0/0 * * * ? *)", "cron(0 ? * * ? *)", "cron(0 0 W * ? *)",
    "cron(5- * * * ? *)", "cron(0 0 * * ? 2001-1999)", "cron(0 0 10-5 * ? *)", "CRON(0 0 * * ? *)",
    "at(2024-01-01T00:00:00)", "",
]  # fmt: skip


@pytest.mark.parametrize("expression", INVALID)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(AwsError) as excinfo:
        parse_schedule(expression)
    assert (excinfo.value.code, excinfo.value.message) == (
        "ValidationException",
        "Parameter ScheduleExpression is not valid.",
    )


@pytest.mark.parametrize(
    ("expression", "period"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 hours)", 7200),
     ("rate(1 day)", 86400), ("rate(7 days)", 604800)],
)  # fmt: skip
def test_rates(expression: str, period: int) -> None:
    rate = parse_schedule(expression)
    assert isinstance(rate, Rate) and rate.period == period


def test_rate_fires_first_at_the_next_minute_then_every_period() -> None:
    rate = parse_schedule("rate(5 minutes)")
    first = rate.first_after(at("2024-03-10 10:15:30"))
    assert iso(first) == "2024-03-10 10:16 Sun"
    assert rate.first_after(at("2024-03-10 10:15:00")) == at("2024-03-10 10:16:00")
    assert first is not None
    assert iso(rate.following(first, first + 0.5)) == "2024-03-10 10:21 Sun"
    # fires that elapsed meanwhile are not owed: the next one keeps the phase
    assert iso(rate.following(first, at("2024-03-10 11:00:00"))) == "2024-03-10 11:01 Sun"


CRON = [
    # expression, after, the next fires
    ("cron(0 12 * * ? *)", "2024-03-10 12:00:00", ["2024-03-11 12:00 Mon", "2024-03-12 12:00 Tue"]),
    ("cron(15 10 ? * 6L 2022-2024)", "2024-01-01 00:00:00", ["2024-01-26 10:15 Fri", "2024-02-23 10:15 Fri"]),
    ("cron(0/15 * * * ? *)", "2024-03-10 10:14:59", ["2024-03-10 10:15 Sun", "2024-03-10 10:30 Sun"]),
    ("cron(0 18 ? * MON-FRI *)", "2024-03-08 18:00:00", ["2024-03-11 18:00 Mon", "2024-03-12 18:00 Tue"]),
    ("cron(0 8 1 * ? *)", "2024-01-15 00:00:00", ["2024-02-01 08:00 Thu", "2024-03-01 08:00 Fri"]),
    ("cron(0/5 8-17 ? * MON-FRI *)", "2024-03-08 17:55:00", ["2024-03-11 08:00 Mon", "2024-03-11 08:05 Mon"]),
    ("cron(0/30 20-2 ? * * *)", "2024-03-10 01:45:00", ["2024-03-10 02:00 Sun", "2024-03-10 02:30 Sun"]),
    # L: last day of the month, leap years included
    ("cron(0 0 L * ? *)", "2024-01-31 00:00:00", ["2024-02-29 00:00 Thu", "2024-03-31 00:00 Sun"]),
    ("cron(0 0 L 2 ? *)", "2023-01-01 00:00:00", ["2023-02-28 00:00 Tue", "2024-02-29 00:00 Thu"]),
    ("cron(30 6 29 2 ? *)", "2024-03-01 00:00:00", ["2028-02-29 06:30 Tue", "2032-02-29 06:30 Sun"]),
    # L alone in day-of-week is Saturday (7); 1 is Sunday
    ("cron(0 9 ? * L *)", "2024-03-10 00:00:00", ["2024-03-16 09:00 Sat", "2024-03-23 09:00 Sat"]),
    ("cron(0 9 ? * 1 *)", "2024-03-10 09:00:00", ["2024-03-17 09:00 Sun", "2024-03-24 09:00 Sun"]),
    # W: nearest weekday, never across the month's edge
    ("cron(0 9 15W * ? *)", "2024-06-01 00:00:00", ["2024-06-14 09:00 Fri", "2024-07-15 09:00 Mon"]),
    ("cron(0 9 1W * ? *)", "2024-06-01 00:00:00", ["2024-06-03 09:00 Mon", "2024-07-01 09:00 Mon"]),
    ("cron(0 9 30W * ? *)", "2024-06-01 00:00:00", ["2024-06-28 09:00 Fri", "2024-07-30 09:00 Tue"]),
    ("cron(0 9 LW * ? *)", "2024-08-01 00:00:00", ["2024-08-30 09:00 Fri", "2024-09-30 09:00 Mon"]),
    ("cron(0 9 31W * ? *)", "2024-04-01 00:00:00", ["2024-05-31 09:00 Fri", "2024-07-31 09:00 Wed"]),
    # #: the nth weekday of the month (no 5th Monday in February 2024)
    ("cron(0 10 ? * 2#1 *)", "2024-01-01 10:00:00", ["2024-02-05 10:00 Mon", "2024-03-04 10:00 Mon"]),
    ("cron(0 10 ? * MON#5 *)", "2024-01-01 00:00:00", ["2024-01-29 10:00 Mon", "2024-04-29 10:00 Mon"]),
    # names, lists, steps on months, years
    ("cron(0 0 1 JAN,jul ? *)", "2024-02-01 00:00:00", ["2024-07-01 00:00 Mon", "2025-01-01 00:00 Wed"]),
    ("cron(0 0 1 1/6 ? *)", "2024-02-01 00:00:00", ["2024-07-01 00:00 Mon", "2025-01-01 00:00 Wed"]),
    ("cron(0 0 1 1 ? 2025/2)", "2024-06-01 00:00:00", ["2025-01-01 00:00 Wed", "2027-01-01 00:00 Fri"]),
    ("cron(0 0 1 1 ? 2030)", "2030-01-01 00:00:00", [None]),
    ("cron(0 0 31 2 ? *)", "2024-01-01 00:00:00", [None]),
]


@pytest.mark.parametrize(("expression", "after", "expected"), CRON, ids=[c[0] for c in CRON])
def test_cron_next_fires(expression: str, after: str, expected: list[str | None]) -> None:
    cron = parse_schedule(expression)
    assert isinstance(cron, Cron)
    fires: list[str | None] = []
    moment: float | None = at(after)
    for _ in expected:
        assert moment is not None
        moment = cron.next_after(moment)
        fires.append(iso(moment))
    assert fires == expected


def test_cron_first_fire_is_the_next_matching_minute_and_missed_fires_are_not_owed() -> None:
    cron = parse_schedule("cron(* * * * ? *)")
    assert cron.first_after(at("2024-03-10 10:15:00")) == at("2024-03-10 10:16:00")
    assert cron.first_after(at("2024-03-10 10:15:59.9")) == at("2024-03-10 10:16:00")
    assert cron.following(at("2024-03-10 10:16:00"), at("2024-03-10 12:00:30")) == at("2024-03-10 12:01:00")
