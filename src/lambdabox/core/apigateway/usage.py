"""What API keys used of their usage plans, kept in the store so that quotas survive restarts.

Each request a plan admits with a key is counted on its UTC day (one `DailyUsage` record per plan, key
and day, written as the request is admitted). A quota counts a key's requests per UTC day, week (from
Monday) or month, less `offset` in the plan's first period, plus what UpdateUsage granted in that period
(`QuotaGrant`). GetUsage reads the days back as `[used, remaining]` pairs; a plan without a quota reports
0 remaining. The current period's count of each key is kept in memory once read."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from lambdabox.core.apigateway.models import DailyUsage, QuotaGrant, UsagePlan
from lambdabox.core.apigateway.store import ApiGatewayStore


class KeyNotAdmitted(Exception):
    """A request a method that requires an API key does not take; `kind`: how the data plane answers."""

    kind = ""


class QuotaExceeded(KeyNotAdmitted):
    """429 Limit Exceeded: the key's quota for this period is used up."""

    kind = "quota"


@dataclass
class _Count:
    """A key's requests in the current quota period of a plan (a cache of the store's records)."""

    period: date  # the period's first day
    day: date  # the last day counted
    today: int  # requests on `day`
    used: int  # requests in the period (its offset included)
    extra: int  # quota granted in the period


class UsageLedger:
    def __init__(self, store: ApiGatewayStore, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._now = now
        self._counts: dict[tuple[str, str], _Count] = {}  # (plan, key)

    def admit(self, plan: UsagePlan, key_id: str) -> None:
        """Count a request of `key_id` under `plan`; raises QuotaExceeded when the period's quota is
        used up (the request is not counted then)."""
        count = self._current(plan, key_id)
        quota = plan.quota
        if quota is not None and count.used >= quota.limit + count.extra:
            raise QuotaExceeded(f"API key {key_id} used its quota of usage plan {plan.plan_id}")
        count.used += 1
        count.today += 1
        day = count.day.isoformat()
        self._store.put(plan.plan_id, _day_key(key_id, day), DailyUsage(key_id, day, count.today))

    def grant(self, plan: UsagePlan, key_id: str, remaining: int) -> None:
        """UpdateUsage: `key_id` has `remaining` requests left in the current period of `plan`'s quota."""
        quota = plan.quota
        if quota is None:
            raise ValueError(f"usage plan {plan.plan_id} has no quota")
        count = self._current(plan, key_id)
        count.extra = remaining - quota.limit + count.used
        period = count.period.isoformat()
        self._store.put(plan.plan_id, _grant_key(key_id, period), QuotaGrant(key_id, period, count.extra))

    def usage(
        self, plan: UsagePlan, key_ids: Iterable[str], first: date, last: date
    ) -> dict[str, list[list[int]]]:
        """Each key's `[used, remaining]` for each day from `first` to `last` (both included)."""
        days, grants = self._days(plan.plan_id), self._grants(plan.plan_id)
        quota = plan.quota
        answer: dict[str, list[list[int]]] = {}
        for key_id in key_ids:
            used_on = days.get(key_id, {})
            daily = answer[key_id] = []
            for day in _dates(first, last):
                used = used_on.get(day, 0)
                if quota is None:
                    daily.append([used, 0])
                    continue
                period = period_start(quota.period, day)
                allowed = quota.limit + grants.get((key_id, period), 0)
                daily.append([used, max(0, allowed - self._used(plan, used_on, period, day))])
        return answer

    def forget(self, plan_id: str) -> None:
        """The plan is gone (its records with it)."""
        for cached in [k for k in self._counts if k[0] == plan_id]:
            del self._counts[cached]

    def drop_key(self, plan_id: str, key_id: str) -> None:
        """The API key is gone: its usage of `plan_id` with it."""
        for day in self._store.list(DailyUsage, plan_id):
            if day.key_id == key_id:
                self._store.delete(DailyUsage, plan_id, _day_key(key_id, day.day))
        for grant in self._store.list(QuotaGrant, plan_id):
            if grant.key_id == key_id:
                self._store.delete(QuotaGrant, plan_id, _grant_key(key_id, grant.period))
        self._counts.pop((plan_id, key_id), None)

    # -- reading the store ----------------------------------------------------------------------------
    def _current(self, plan: UsagePlan, key_id: str) -> _Count:
        today = datetime.fromtimestamp(self._now(), UTC).date()
        period = period_start(plan.quota.period if plan.quota is not None else "DAY", today)
        count = self._counts.get((plan.plan_id, key_id))
        if count is None or count.period != period:
            used_on = self._days(plan.plan_id).get(key_id, {})
            used = self._used(plan, used_on, period, today)
            extra = self._grants(plan.plan_id).get((key_id, period), 0)
            count = _Count(period, today, used_on.get(today, 0), used, extra)
            self._counts[(plan.plan_id, key_id)] = count
        elif count.day != today:
            count.day, count.today = today, 0
        return count

    def _days(self, plan_id: str) -> dict[str, dict[date, int]]:
        """The requests each key of the plan made, by day."""
        days: dict[str, dict[date, int]] = {}
        for record in self._store.list(DailyUsage, plan_id):
            days.setdefault(record.key_id, {})[date.fromisoformat(record.day)] = record.used
        return days

    def _grants(self, plan_id: str) -> dict[tuple[str, date], int]:
        """What UpdateUsage granted, by key and quota period."""
        grants = self._store.list(QuotaGrant, plan_id)
        return {(grant.key_id, date.fromisoformat(grant.period)): grant.extra for grant in grants}

    def _used(self, plan: UsagePlan, used_on: dict[date, int], period: date, through: date) -> int:
        """What a key used of the quota period starting `period`, up to and including `through`."""
        return self._opening(plan, period) + sum(used_on.get(day, 0) for day in _dates(period, through))

    @staticmethod
    def _opening(plan: UsagePlan, period: date) -> int:
        """What the period starts with used: the quota's offset in the plan's first period."""
        quota = plan.quota
        if quota is None:
            return 0
        created = datetime.fromtimestamp(plan.created, UTC).date()
        return quota.offset if period == period_start(quota.period, created) else 0


def _day_key(key_id: str, day: str) -> str:
    return f"{key_id}/{day}"


def _grant_key(key_id: str, period: str) -> str:
    return f"{key_id}/grant/{period}"


def period_start(period: str, day: date) -> date:
    """The first day of the quota period (DAY, WEEK from Monday, MONTH) `day` falls in."""
    if period == "WEEK":
        return day - timedelta(days=day.weekday())
    if period == "MONTH":
        return day.replace(day=1)
    return day


def _dates(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
