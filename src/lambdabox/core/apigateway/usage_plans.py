"""REST API keys and usage plans.

A client sends an API key (`x-api-key`, or the `usageIdentifierKey` its Lambda authorizer returns); a
method with `apiKeyRequired` admits it only when the key is enabled and belongs to a usage plan that lists
the API's stage. The plan's throttle is a token bucket per key (`burstLimit` deep, refilled at `rateLimit`
per second; the buckets live in the process); its quota is counted in the store (usage.py), so that it
survives restarts, and GetUsage / UpdateUsage read and extend it."""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from lambdabox.core.apigateway.http_apis import bad_request, conflict, rest_not_found
from lambdabox.core.apigateway.models import (
    ACCOUNT_RECORDS,
    ApiKey,
    RestApi,
    RestStage,
    UsagePlan,
)
from lambdabox.core.apigateway.names import new_id
from lambdabox.core.apigateway.store import ApiGatewayStore
from lambdabox.core.apigateway.throttle import Buckets
from lambdabox.core.apigateway.usage import KeyNotAdmitted, UsageLedger

PERIODS = ("DAY", "WEEK", "MONTH")
_KEY_ALPHABET = string.ascii_letters + string.digits


class UsagePlanService:
    def __init__(self, store: ApiGatewayStore, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._now = now
        self.ledger = UsageLedger(store, now)  # what the keys used (one per platform: it caches counts)

    # -- API keys -------------------------------------------------------------------------------------
    def create_key(self, key: ApiKey) -> ApiKey:
        now = self._now()
        value = key.value or "".join(secrets.choice(_KEY_ALPHABET) for _ in range(40))
        key = replace(key, key_id=new_id(10), value=value, created=now, updated=now)
        with self._store.transaction():
            self._check_key(key)
            self._store.put(ACCOUNT_RECORDS, key.key_id, key)
        return key

    def get_key(self, key_id: str) -> ApiKey:
        key = self._store.get(ApiKey, ACCOUNT_RECORDS, key_id)
        if key is None:
            raise rest_not_found("Invalid API Key identifier specified")
        return key

    def list_keys(self, name_query: str | None = None, customer_id: str | None = None) -> list[ApiKey]:
        return [
            key
            for key in self._store.list(ApiKey, ACCOUNT_RECORDS)
            if key.name.startswith(name_query or "") and customer_id in (None, key.customer_id)
        ]

    def update_key(self, key_id: str, change: Callable[[ApiKey], ApiKey]) -> ApiKey:
        with self._store.transaction():
            key = replace(change(self.get_key(key_id)), updated=self._now())
            self._check_key(key)
            self._store.put(ACCOUNT_RECORDS, key_id, key)
        return key

    def delete_key(self, key_id: str) -> None:
        with self._store.transaction():
            self.get_key(key_id)
            for plan in self.list_plans(key_id):
                self._store.put(
                    ACCOUNT_RECORDS, plan.plan_id, replace(plan, key_ids=_without(plan.key_ids, key_id))
                )
                self.ledger.drop_key(plan.plan_id, key_id)
            self._store.delete(ApiKey, ACCOUNT_RECORDS, key_id)

    def key_by_value(self, value: str) -> ApiKey | None:
        return next((k for k in self._store.list(ApiKey, ACCOUNT_RECORDS) if k.value == value), None)

    def _check_key(self, key: ApiKey) -> None:
        if not key.name:
            raise bad_request("API Key name must be non-empty")
        if len(key.value) < 20:
            raise bad_request("API Key value should be at least 20 characters")
        for other in self._store.list(ApiKey, ACCOUNT_RECORDS):
            if other.value == key.value and other.key_id != key.key_id:
                raise conflict("API Key already exists")

    # -- usage plans ----------------------------------------------------------------------------------
    def create_plan(self, plan: UsagePlan) -> UsagePlan:
        plan = replace(plan, plan_id=new_id(6), created=self._now())
        with self._store.transaction():
            self._check_plan(plan)
            self._store.put(ACCOUNT_RECORDS, plan.plan_id, plan)
        return plan

    def get_plan(self, plan_id: str) -> UsagePlan:
        plan = self._store.get(UsagePlan, ACCOUNT_RECORDS, plan_id)
        if plan is None:
            raise rest_not_found("Invalid Usage Plan ID specified")
        return plan

    def list_plans(self, key_id: str | None = None) -> list[UsagePlan]:
        plans = self._store.list(UsagePlan, ACCOUNT_RECORDS)
        return [plan for plan in plans if key_id is None or key_id in plan.key_ids]

    def update_plan(self, plan_id: str, change: Callable[[UsagePlan], UsagePlan]) -> UsagePlan:
        with self._store.transaction():
            plan = change(self.get_plan(plan_id))
            self._check_plan(plan)
            self._store.put(ACCOUNT_RECORDS, plan_id, plan)
        return plan

    def delete_plan(self, plan_id: str) -> None:
        self.get_plan(plan_id)
        with self._store.transaction():
            self._store.delete(UsagePlan, ACCOUNT_RECORDS, plan_id)
            self._store.delete_api(plan_id)  # its usage records, filed under its id
        self.ledger.forget(plan_id)

    def _check_plan(self, plan: UsagePlan) -> None:
        if not plan.name:
            raise bad_request("Usage Plan name must be non-empty")
        for stage in plan.api_stages:
            if self._store.get(RestApi, stage.api_id, stage.api_id) is None:
                raise bad_request(f"Invalid API identifier specified {stage.api_id}")
            if self._store.get(RestStage, stage.api_id, stage.stage) is None:
                raise bad_request(f"Invalid stage identifier specified {stage.api_id}:{stage.stage}")
        if plan.quota is not None:
            if plan.quota.period not in PERIODS:
                raise bad_request(
                    f"Invalid quota period {plan.quota.period}. Must be one of: DAY, WEEK, MONTH"
                )
            if plan.quota.limit < 0 or not 0 <= plan.quota.offset < max(plan.quota.limit, 1):
                raise bad_request("Quota limit must be at least 0, and its offset below the limit")
        throttle = plan.throttle
        if throttle is not None and ((throttle.rate_limit or 0) < 0 or (throttle.burst_limit or 0) < 0):
            raise bad_request("Throttle rate and burst limits must be at least 0")

    # -- the keys of a plan ---------------------------------------------------------------------------
    def add_plan_key(self, plan_id: str, key_id: str, key_type: str) -> ApiKey:
        if key_type != "API_KEY":
            raise bad_request(f"Invalid key type {key_type}. Must be API_KEY")
        with self._store.transaction():
            plan, key = self.get_plan(plan_id), self.get_key(key_id)
            if key_id in plan.key_ids:
                raise conflict(
                    f"Usage Plan {plan_id} cannot be added because API Key {key_id} already exists"
                )
            self._store.put(ACCOUNT_RECORDS, plan_id, replace(plan, key_ids=(*plan.key_ids, key_id)))
        return key

    def plan_key(self, plan_id: str, key_id: str) -> ApiKey:
        if key_id not in self.get_plan(plan_id).key_ids:
            raise rest_not_found("Invalid Usage Plan Key identifier specified")
        return self.get_key(key_id)

    def plan_keys(self, plan_id: str, name_query: str | None = None) -> list[ApiKey]:
        wanted = set(self.get_plan(plan_id).key_ids)
        return [key for key in self.list_keys(name_query) if key.key_id in wanted]

    def remove_plan_key(self, plan_id: str, key_id: str) -> None:
        with self._store.transaction():
            self.plan_key(plan_id, key_id)
            plan = self.get_plan(plan_id)
            self._store.put(ACCOUNT_RECORDS, plan_id, replace(plan, key_ids=_without(plan.key_ids, key_id)))

    # -- usage ------------------------------------------------------------------------------------------
    def usage(
        self, plan_id: str, first: str, last: str, key_id: str | None = None
    ) -> tuple[date, date, dict[str, list[list[int]]]]:
        """GetUsage: each key's (or `key_id`'s) `[used, remaining]` per day from `first` to `last`."""
        plan = self.get_plan(plan_id)
        start, end = _day(first, "start"), _day(last, "end")
        if start > end:
            raise bad_request("The start date must be on or before the end date")
        if end - start > _MAX_USAGE_SPAN:
            raise bad_request(f"The date range may span at most {_MAX_USAGE_SPAN.days + 1} days")
        key_ids = plan.key_ids
        if key_id is not None:
            if key_id not in key_ids:
                raise rest_not_found("Invalid API Key identifier specified")
            key_ids = (key_id,)
        return start, end, self.ledger.usage(plan, key_ids, start, end)

    def grant(self, plan_id: str, key_id: str, remaining: int) -> tuple[date, dict[str, list[list[int]]]]:
        """UpdateUsage: `key_id` has `remaining` requests left in the current period; today, and its
        usage today."""
        plan = self.get_plan(plan_id)
        self.plan_key(plan_id, key_id)
        if plan.quota is None:
            raise bad_request(f"Usage plan {plan_id} has no quota to extend")
        if remaining < 0:
            raise bad_request("The remaining quota must be at least 0")
        self.ledger.grant(plan, key_id, remaining)
        today = datetime.fromtimestamp(self._now(), UTC).date()
        return today, self.ledger.usage(plan, (key_id,), today, today)


_MAX_USAGE_SPAN = timedelta(days=365)


def _day(text: str, which: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise bad_request(f"Invalid {which} date {text!r}: expected yyyy-MM-dd") from None


def _without(items: Sequence[str], item: str) -> tuple[str, ...]:
    return tuple(other for other in items if other != item)


# -- admission ------------------------------------------------------------------------------------------
class KeyRefused(KeyNotAdmitted):
    """403 Forbidden: no key, an unknown or disabled key, or one no usage plan of this stage lists."""

    kind = "no-api-key"


class KeyThrottled(KeyNotAdmitted):
    """429 Too Many Requests: the plan's rate for this key is used up."""

    kind = "too-many-requests"


class UsageGate:
    """Admits requests to methods that require an API key (one instance per platform: it keeps the
    throttle buckets; the plans' ledger counts the quotas)."""

    def __init__(self, plans: UsagePlanService, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._plans = plans
        self._buckets = Buckets(monotonic)

    def admit(self, api_id: str, stage: str, value: str | None) -> ApiKey:
        """The key a request to `api_id`/`stage` presents, counted against its plan."""
        key = self._plans.key_by_value(value) if value else None
        if key is None or not key.enabled:
            raise KeyRefused("no enabled API key was presented")
        plan = next(
            (
                plan
                for plan in self._plans.list_plans(key.key_id)
                if any(s.api_id == api_id and s.stage == stage for s in plan.api_stages)
            ),
            None,
        )
        if plan is None:
            raise KeyRefused(f"API key {key.key_id} is in no usage plan of {api_id}/{stage}")
        self._throttle(plan, key)
        self._plans.ledger.admit(plan, key.key_id)
        return key

    def _throttle(self, plan: UsagePlan, key: ApiKey) -> None:
        throttle = plan.throttle
        if throttle is not None and not self._buckets.take(
            (plan.plan_id, key.key_id), throttle.rate_limit, throttle.burst_limit
        ):
            raise KeyThrottled(f"API key {key.key_id} is over its rate in usage plan {plan.plan_id}")
