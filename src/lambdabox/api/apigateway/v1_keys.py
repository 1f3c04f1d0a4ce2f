"""The apigateway (REST API, v1) control plane for API keys and usage plans: handlers and output shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdabox.api.apigateway.common import Output, Params, date, delete, get, present
from lambdabox.api.apigateway.patch import Field, Member, Spec, Values, boolean, patch_handler, patched
from lambdabox.core.apigateway.http_apis import bad_request
from lambdabox.core.apigateway.models import ApiKey, PlanStage, Quota, Throttle, UsagePlan
from lambdabox.core.apigateway.usage_plans import UsagePlanService

Handler = Callable[[UsagePlanService, Params], Output]
S = UsagePlanService  # the core methods the table names


# -- API keys --------------------------------------------------------------------------------------------
def api_key_shape(key: ApiKey, include_value: bool = False) -> dict[str, Any]:
    return present(
        {
            "id": key.key_id,
            "name": key.name,
            "enabled": key.enabled,
            "createdDate": date(key.created),
            "lastUpdatedDate": date(key.updated),
            "stageKeys": [],
        },
        {
            "value": key.value if include_value else None,
            "description": key.description,
            "customerId": key.customer_id,
            "tags": dict(key.tags) or None,
        },
    )


def create_api_key(service: UsagePlanService, params: Params) -> Output:
    if params.get("stageKeys"):
        raise bad_request("stageKeys are not supported by Lambdabox; add the key to a usage plan instead")
    key = ApiKey(
        key_id="",
        name=params.get("name", ""),
        value=params.get("value", ""),
        created=0.0,
        updated=0.0,
        enabled=params.get("enabled", False),
        description=params.get("description"),
        customer_id=params.get("customerId"),
        tags=params.get("tags", {}),
    )
    return api_key_shape(service.create_key(key), include_value=True)


def get_api_key(service: UsagePlanService, params: Params) -> Output:
    return api_key_shape(service.get_key(params["apiKey"]), params.get("includeValue", False))


def get_api_keys(service: UsagePlanService, params: Params) -> Output:
    keys = service.list_keys(params.get("nameQuery"), params.get("customerId"))
    return {"items": [api_key_shape(key, params.get("includeValues", False)) for key in keys]}


# -- usage plans -----------------------------------------------------------------------------------------
def usage_plan_shape(plan: UsagePlan) -> dict[str, Any]:
    throttle = plan.throttle
    quota = plan.quota
    return present(
        {
            "id": plan.plan_id,
            "name": plan.name,
            "apiStages": [{"apiId": stage.api_id, "stage": stage.stage} for stage in plan.api_stages],
        },
        {
            "description": plan.description,
            "throttle": None
            if throttle is None
            else present({}, {"burstLimit": throttle.burst_limit, "rateLimit": throttle.rate_limit}),
            "quota": None
            if quota is None
            else {"limit": quota.limit, "offset": quota.offset, "period": quota.period},
            "tags": dict(plan.tags) or None,
        },
    )


def create_usage_plan(service: UsagePlanService, params: Params) -> Output:
    throttle, quota = params.get("throttle"), params.get("quota")
    plan = UsagePlan(
        plan_id="",
        name=params["name"],
        api_stages=tuple(PlanStage(stage["apiId"], stage["stage"]) for stage in params.get("apiStages", [])),
        throttle=None
        if throttle is None
        else Throttle(throttle.get("rateLimit"), throttle.get("burstLimit")),
        quota=None
        if quota is None
        else Quota(quota.get("limit", 0), quota.get("period", ""), quota.get("offset", 0)),
        description=params.get("description"),
        tags=params.get("tags", {}),
    )
    return usage_plan_shape(service.create_plan(plan))


def get_usage_plans(service: UsagePlanService, params: Params) -> Output:
    return {"items": [usage_plan_shape(plan) for plan in service.list_plans(params.get("keyId"))]}


def _plan_stage(text: str) -> PlanStage:
    api_id, sep, stage = text.partition(":")
    if not sep or not api_id or not stage:
        raise ValueError(text)
    return PlanStage(api_id, stage)


# -- the keys of a usage plan ----------------------------------------------------------------------------
def usage_plan_key_shape(key: ApiKey) -> dict[str, Any]:
    return {"id": key.key_id, "type": "API_KEY", "value": key.value, "name": key.name}


def create_usage_plan_key(service: UsagePlanService, params: Params) -> Output:
    key = service.add_plan_key(params["usagePlanId"], params["keyId"], params["keyType"])
    return usage_plan_key_shape(key)


def get_usage_plan_keys(service: UsagePlanService, params: Params) -> Output:
    keys = service.plan_keys(params["usagePlanId"], params.get("nameQuery"))
    return {"items": [usage_plan_key_shape(key) for key in keys]}


# -- usage ---------------------------------------------------------------------------------------------
MAX_USAGE_KEYS = 500


def get_usage(service: UsagePlanService, params: Params) -> Output:
    """Each key's daily `[used, remaining]`, `limit` keys (25 by default) a page, by key id."""
    plan_id = params["usagePlanId"]
    start, end, usage = service.usage(plan_id, params["startDate"], params["endDate"], params.get("keyId"))
    limit = params.get("limit", 25)
    if not 1 <= limit <= MAX_USAGE_KEYS:
        raise bad_request(f"Invalid limit {limit}: must be between 1 and {MAX_USAGE_KEYS}")
    position = params.get("position")
    keys = sorted(key for key in usage if position is None or key >= position)
    shape: dict[str, Any] = {
        "usagePlanId": plan_id,
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "items": {key: usage[key] for key in keys[:limit]},
    }
    return present(shape, {"position": keys[limit] if len(keys) > limit else None})


@dataclass(frozen=True)
class _Remaining:
    """What UpdateUsage's patch edits: the requests left to a key in the current quota period."""

    remaining: int | None = None


def update_usage(service: UsagePlanService, params: Params) -> Output:
    edit = patched(_Remaining(), params.get("patchOperations", []), {"/remaining": Field("remaining", int)})
    if edit.remaining is None:
        raise bad_request("UpdateUsage takes one operation: replace /remaining with a number")
    plan_id, key_id = params["usagePlanId"], params["keyId"]
    today, usage = service.grant(plan_id, key_id, edit.remaining)
    day = today.isoformat()
    return {"usagePlanId": plan_id, "startDate": day, "endDate": day, "items": usage}


# -- updates ---------------------------------------------------------------------------------------------
_KEY_PATCHES: dict[str, Spec] = {
    "/name": Field("name"),
    "/description": Field("description", removable=True),
    "/enabled": Field("enabled", boolean),
    "/customerId": Field("customer_id", removable=True),
}


def _no_quota() -> Quota:
    """What a plan without a quota gets when a patch sets one of its members first."""
    return Quota(0, "DAY")


_PLAN_PATCHES: dict[str, Spec] = {
    "/name": Field("name"),
    "/description": Field("description", removable=True),
    "/throttle/rateLimit": Member("throttle", "rate_limit", Throttle, float),
    "/throttle/burstLimit": Member("throttle", "burst_limit", Throttle, int),
    "/quota/limit": Member("quota", "limit", _no_quota, int),
    "/quota/offset": Member("quota", "offset", _no_quota, int),
    "/quota/period": Member("quota", "period", _no_quota),
    "/apiStages": Values("api_stages", _plan_stage),
}


_PLAN_KEY = ("usagePlanId", "keyId")

HANDLERS: dict[str, Handler] = {
    "CreateApiKey": create_api_key,
    "GetApiKey": get_api_key,
    "GetApiKeys": get_api_keys,
    "UpdateApiKey": patch_handler(("apiKey",), S.update_key, _KEY_PATCHES, api_key_shape),
    "DeleteApiKey": delete(("apiKey",), S.delete_key),
    "CreateUsagePlan": create_usage_plan,
    "GetUsagePlan": get(("usagePlanId",), S.get_plan, usage_plan_shape),
    "GetUsagePlans": get_usage_plans,
    "UpdateUsagePlan": patch_handler(("usagePlanId",), S.update_plan, _PLAN_PATCHES, usage_plan_shape),
    "DeleteUsagePlan": delete(("usagePlanId",), S.delete_plan),
    "CreateUsagePlanKey": create_usage_plan_key,
    "GetUsagePlanKey": get(_PLAN_KEY, S.plan_key, usage_plan_key_shape),
    "GetUsagePlanKeys": get_usage_plan_keys,
    "DeleteUsagePlanKey": delete(_PLAN_KEY, S.remove_plan_key),
    "GetUsage": get_usage,
    "UpdateUsage": update_usage,
}
