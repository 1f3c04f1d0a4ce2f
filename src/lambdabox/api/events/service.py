"""The EventBridge front end: json-protocol dispatch around the operation handlers."""

from __future__ import annotations

from lambdabox.api.events import buses, events, rules, targets
from lambdabox.api.events.common import Handler
from lambdabox.aws.json_protocol import JsonProtocol
from lambdabox.aws.model import load_service_model
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.events.service import EventsService
from lambdabox.core.iam.actions import events_checks
from lambdabox.core.iam.authorizer import Authorizer

HANDLERS: dict[str, Handler] = {
    "CreateEventBus": buses.create_event_bus,
    "DeleteEventBus": buses.delete_event_bus,
    "DescribeEventBus": buses.describe_event_bus,
    "ListEventBuses": buses.list_event_buses,
    "UpdateEventBus": buses.update_event_bus,
    "PutPermission": buses.put_permission,
    "RemovePermission": buses.remove_permission,
    "PutRule": rules.put_rule,
    "DescribeRule": rules.describe_rule,
    "ListRules": rules.list_rules,
    "EnableRule": rules.enable_rule,
    "DisableRule": rules.disable_rule,
    "DeleteRule": rules.delete_rule,
    "ListRuleNamesByTarget": rules.list_rule_names_by_target,
    "TagResource": rules.tag_resource,
    "UntagResource": rules.untag_resource,
    "ListTagsForResource": rules.list_tags_for_resource,
    "PutTargets": targets.put_targets,
    "RemoveTargets": targets.remove_targets,
    "ListTargetsByRule": targets.list_targets_by_rule,
    "PutEvents": events.put_events,
    "TestEventPattern": events.test_event_pattern,
}


class EventsApi:
    def __init__(self, events: EventsService, authorizer: Authorizer | None = None) -> None:
        self._events = events
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)
        self.protocol = JsonProtocol(load_service_model("events"))

    async def handle(self, request: WireRequest) -> WireResponse:
        return self.protocol.answer(
            request,
            HANDLERS,
            self._events,
            service="EventBridge",
            internal_code="InternalException",
            authorize=None
            if self._authorizer is None
            else self._authorizer.hook(
                request.principal_arn,
                request.client_host,
                "events",
                lambda operation, params: events_checks(
                    self._events.names, operation, params, self._events.policy_of
                ),
            ),
        )
