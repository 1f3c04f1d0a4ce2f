"""The usage ledger on the real SQLite store: quota periods (day, week from Monday, month), the first
period's offset, grants, daily [used, remaining], a new ledger reading what an old one counted, and a
deleted key's records going with it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lambdabox.core.apigateway.models import DailyUsage, Quota, QuotaGrant, UsagePlan
from lambdabox.core.apigateway.usage import QuotaExceeded, UsageLedger, period_start
from lambdabox.storage.apigateway_sqlite import SqliteApiGatewayStore
from lambdabox.storage.sqlite import Database


class Clock:
    def __init__(self, day: date) -> None:
        self.set(day)

    def set(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def _plan(period: str, limit: int, offset: int = 0, created: date = date(2026, 11, 2)) -> UsagePlan:
    stamp = datetime(created.year, created.month, created.day, tzinfo=UTC).timestamp()
    return UsagePlan("p1", "plan", created=stamp, quota=Quota(limit, period, offset), key_ids=("k1",))


def _admitted(ledger: UsageLedger, plan: UsagePlan, times: int) -> int:
    done = 0
    for _ in range(times):
        try:
            ledger.admit(plan, "k1")
        except QuotaExceeded:
            break
        done += 1
    return done


@pytest.fixture
def store(tmp_path: Path) -> SqliteApiGatewayStore:
    return SqliteApiGatewayStore(Database(tmp_path / "db.sqlite"))


def test_periods_start_on_the_day_monday_and_the_first() -> None:
    thursday = date(2026, 11, 26)
    assert period_start("DAY", thursday) == thursday
    assert period_start("WEEK", thursday) == date(2026, 11, 23)
    assert period_start("MONTH", thursday) == date(2026, 11, 1)


def test_a_weekly_quota_spans_days_and_survives_a_new_ledger(store: SqliteApiGatewayStore) -> None:
    clock = Clock(date(2026, 11, 3))  # a Tuesday, in the plan's first week: 1 of 5 used already
    plan = _plan("WEEK", 5, offset=1)
    assert _admitted(UsageLedger(store, clock), plan, 3) == 3
    clock.set(date(2026, 11, 5))
    restarted = UsageLedger(store, clock)  # what a restarted server reads back
    assert _admitted(restarted, plan, 3) == 1
    assert restarted.usage(plan, ["k1"], date(2026, 11, 2), date(2026, 11, 5))["k1"] == [
        [0, 4],
        [3, 1],
        [0, 1],
        [1, 0],
    ]
    clock.set(date(2026, 11, 9))  # the next Monday: a new week, without the offset
    assert _admitted(restarted, plan, 9) == 5


def test_a_grant_sets_what_is_left_of_the_current_period(store: SqliteApiGatewayStore) -> None:
    clock = Clock(date(2026, 11, 20))
    plan = _plan("MONTH", 2)
    ledger = UsageLedger(store, clock)
    assert _admitted(ledger, plan, 5) == 2
    ledger.grant(plan, "k1", 3)
    assert ledger.usage(plan, ["k1"], date(2026, 11, 20), date(2026, 11, 20))["k1"] == [[2, 3]]
    assert _admitted(UsageLedger(store, clock), plan, 5) == 3
    clock.set(date(2026, 12, 1))  # the grant was for November
    assert _admitted(ledger, plan, 5) == 2


def test_a_plan_without_a_quota_counts_and_reports_nothing_left(store: SqliteApiGatewayStore) -> None:
    plan = UsagePlan("p1", "plan", key_ids=("k1",))
    ledger = UsageLedger(store, Clock(date(2026, 11, 20)))
    assert _admitted(ledger, plan, 4) == 4
    assert ledger.usage(plan, ["k1"], date(2026, 11, 20), date(2026, 11, 20))["k1"] == [[4, 0]]
    with pytest.raises(ValueError, match="no quota"):
        ledger.grant(plan, "k1", 1)


def test_a_dropped_key_leaves_no_records(store: SqliteApiGatewayStore) -> None:
    clock = Clock(date(2026, 11, 20))
    plan = _plan("MONTH", 10)
    ledger = UsageLedger(store, clock)
    _admitted(ledger, plan, 2)
    ledger.grant(plan, "k1", 5)
    assert store.list(DailyUsage, "p1") and store.list(QuotaGrant, "p1")
    ledger.drop_key("p1", "k1")
    assert store.list(DailyUsage, "p1") == [] and store.list(QuotaGrant, "p1") == []
    assert ledger.usage(plan, ["k1"], date(2026, 11, 20), date(2026, 11, 20))["k1"] == [[0, 10]]
