"""EventBridge Scheduler timing: at(), time zones with their daylight-saving changes, StartDate/EndDate and
flexible windows (fixed datetimes, no server)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from lambdabox.core.events.schedule import At, parse_in_zone, parse_schedule, time_zone
from lambdabox.core.scheduler.models import (
    FlexibleMode,
    FlexibleTimeWindow,
    Schedule,
    ScheduleTarget,
)
from lambdabox.core.scheduler.timing import Timing, window_delay
from lambdabox.errors import AwsError

NEW_YORK = ZoneInfo("America/New_York")
ARN = "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s"


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def local(text: str, zone: ZoneInfo = NEW_YORK) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def schedule(expression: str, **fields: object) -> Schedule:
    target = ScheduleTarget("arn:aws:lambda:us-east-1:000000000000:function:f", "arn:aws:iam::0:role/r")
    return Schedule("s", "default", expression, target, 0.0, 0.0, **fields)  # type: ignore[arg-type]


def test_at_is_read_in_its_zone_and_fires_once() -> None:
    expression = parse_in_zone("at(2024-07-04T09:30:00)", "America/New_York")
    assert isinstance(expression, At)
    assert iso(expression.first_after(utc("2024-07-01 00:00:00"))) == "2024-07-04 13:30:00"
    assert expression.following(utc("2024-07-04 13:30:00"), utc("2024-07-04 13:30:01")) is None
    assert iso(parse_in_zone("at(2024-07-04T09:30:00)", "UTC").first_after(0)) == "2024-07-04 09:30:00"


def test_at_in_the_past_never_fires_but_the_current_minute_still_does() -> None:
    expression = parse_in_zone("at(2024-07-04T09:30:00)", "UTC")
    assert expression.first_after(utc("2024-07-04 09:31:00")) is None
    assert iso(expression.first_after(utc("2024-07-04 09:30:40"))) == "2024-07-04 09:30:00"


@pytest.mark.parametrize(
    "expression",
    ["at(2024-02-30T00:00:00)", "at(2024-01-01 00:00:00)", "at(2024-01-01T24:00:00)", "at(2024-1-01T00:00:00)",
     "at(2024-01-01T00:00)", "at()", "at(2024-01-01T00:00:00Z)"],
)  # fmt: skip
def test_invalid_at_expressions(expression: str) -> None:
    with pytest.raises(AwsError):
        parse_in_zone(expression, "UTC")


def test_rules_still_refuse_at() -> None:
    with pytest.raises(AwsError):
        parse_schedule("at(2024-01-01T00:00:00)")


def test_time_zones() -> None:
    assert time_zone("Europe/Paris") is not None and time_zone("UTC") is not None
    for name in ("Mars/Olympus", "", "../etc/passwd", "/etc/localtime", "Europe/../UTC"):
        assert time_zone(name) is None


def test_cron_in_a_zone_follows_daylight_saving_time() -> None:
    cron = parse_in_zone("cron(30 9 * * ? *)", "America/New_York")
    assert iso(cron.first_after(utc("2024-03-08 00:00:00"))) == "2024-03-08 14:30:00"  # EST
    assert (
        iso(cron.following(utc("2024-03-09 14:30:00"), utc("2024-03-09 14:30:00"))) == "2024-03-10 13:30:00"
    )


def test_spring_forward_skips_the_missing_hour_and_fall_back_fires_once() -> None:
    cron = parse_in_zone("cron(30 2 * * ? *)", "America/New_York")  # 02:30 does not exist on 2024-03-10
    assert iso(cron.first_after(utc("2024-03-09 08:00:00"))) == "2024-03-11 06:30:00"
    hourly = parse_in_zone("cron(30 * * * ? *)", "America/New_York")  # 01:30 happens twice on 2024-11-03
    first = hourly.first_after(local("2024-11-03 00:45:00"))
    assert iso(first) == "2024-11-03 05:30:00"  # 01:30 EDT
    assert first is not None
    assert iso(hourly.following(first, first)) == "2024-11-03 07:30:00"  # 02:30 EST: 01:30 EST is skipped
    # a process that starts during the repeated hour goes on from there
    assert iso(hourly.first_after(utc("2024-11-03 06:10:00"))) == "2024-11-03 07:30:00"


def test_rate_starts_now_or_at_its_start_date_and_stops_at_its_end_date() -> None:
    now = utc("2024-05-01 10:00:20")
    assert Timing(schedule("rate(5 minutes)"), ARN).first(now) is not None
    timing = Timing(schedule("rate(5 minutes)"), ARN)
    first = timing.first(now)
    assert first is not None and first.due == now  # "immediately", as AWS
    start = utc("2024-05-01 12:00:00")
    later = Timing(schedule("rate(1 hour)", start_date=start, end_date=utc("2024-05-01 14:00:00")), ARN)
    nxt = later.first(now)
    assert nxt is not None and iso(nxt.due) == "2024-05-01 12:00:00"
    nxt = later.following(nxt.due, nxt.due)
    assert nxt is not None and iso(nxt.due) == "2024-05-01 13:00:00"
    nxt = later.following(nxt.due, nxt.due)
    assert nxt is not None and iso(nxt.due) == "2024-05-01 14:00:00"
    assert later.following(nxt.due, nxt.due) is None
    past = Timing(schedule("rate(1 minute)", start_date=utc("2024-05-01 09:58:30")), ARN).first(now)
    assert past is not None and iso(past.due) == "2024-05-01 10:00:30"  # the series of its start date


def test_cron_starts_at_its_start_date_and_at_ignores_both_dates() -> None:
    start = utc("2024-05-03 00:00:00")
    timing = Timing(schedule("cron(0 0 * * ? *)", start_date=start), ARN)
    first = timing.first(utc("2024-05-01 10:00:00"))
    assert first is not None and iso(first.due) == "2024-05-03 00:00:00"
    one_time = Timing(
        schedule("at(2024-06-01T00:00:00)", start_date=start, end_date=utc("2024-05-04 00:00:00")), ARN
    )
    first = one_time.first(utc("2024-05-01 10:00:00"))
    assert first is not None and iso(first.due) == "2024-06-01 00:00:00"


def test_flexible_window_delays_each_fire_deterministically_within_the_window() -> None:
    flexible = schedule("rate(1 minute)", flexible_time_window=FlexibleTimeWindow(FlexibleMode.FLEXIBLE, 10))
    delays = [window_delay(ARN, utc("2024-05-01 10:00:00") + 60 * i, flexible) for i in range(50)]
    assert all(0 <= delay < 600 for delay in delays)
    assert len(set(delays)) == 50  # spread, not constant
    assert delays == [window_delay(ARN, utc("2024-05-01 10:00:00") + 60 * i, flexible) for i in range(50)]
    first = Timing(flexible, ARN).first(utc("2024-05-01 10:00:00"))
    assert first is not None and first.at == first.due + window_delay(ARN, first.due, flexible)
    assert window_delay(ARN, 0.0, schedule("rate(1 minute)")) == 0.0
