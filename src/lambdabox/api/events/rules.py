"""Rules (put, describe, list, enable, disable, delete) and the tags of rules and buses."""

from __future__ import annotations

from typing import Any

from lambdabox.api.events.common import compact, page, rule_shape, tag_list, tag_map
from lambdabox.core.events.models import RuleState
from lambdabox.core.events.service import EventsService


def put_rule(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    arn = events.put_rule(
        params["Name"],
        params.get("EventBusName"),
        event_pattern=params.get("EventPattern"),
        schedule=params.get("ScheduleExpression"),
        state=RuleState(params.get("State", RuleState.ENABLED.value)),
        description=params.get("Description"),
        role_arn=params.get("RoleArn"),
        tags=tag_map(params.get("Tags")),
    )
    return {"RuleArn": arn}


def describe_rule(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    rule = events.rule(params["Name"], params.get("EventBusName"))
    return {**rule_shape(events.names, rule), "CreatedBy": events.names.account.account_id}


def list_rules(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    rules = events.list_rules(params.get("EventBusName"), params.get("NamePrefix"))
    chosen, token = page("ListRules", rules, lambda r: r.name, params)
    return compact({"Rules": [rule_shape(events.names, rule) for rule in chosen], "NextToken": token})


def enable_rule(events: EventsService, params: dict[str, Any]) -> None:
    events.set_state(params["Name"], params.get("EventBusName"), RuleState.ENABLED)


def disable_rule(events: EventsService, params: dict[str, Any]) -> None:
    events.set_state(params["Name"], params.get("EventBusName"), RuleState.DISABLED)


def delete_rule(events: EventsService, params: dict[str, Any]) -> None:
    events.delete_rule(params["Name"], params.get("EventBusName"))


def list_rule_names_by_target(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    names = events.rules_by_target(params["TargetArn"], params.get("EventBusName"))
    chosen, token = page("ListRuleNamesByTarget", names, lambda n: n, params)
    return compact({"RuleNames": chosen, "NextToken": token})


def tag_resource(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    events.tag(params["ResourceARN"], tag_map(params["Tags"]))
    return {}


def untag_resource(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    events.tag(params["ResourceARN"], {}, params["TagKeys"])
    return {}


def list_tags_for_resource(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": tag_list(events.tags(params["ResourceARN"]))}
