"""The EventBridge Scheduler front end: model-driven rest-json routing and (de)serialization."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdabox.api.scheduler.handlers import HANDLERS
from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_json import RestJsonProtocol, params_only, with_service
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.actions import Check, pass_role
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.scheduler.models import DEFAULT_GROUP
from lambdabox.core.scheduler.names import SchedulerNames
from lambdabox.core.scheduler.service import SchedulerService

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"


def scheduler_checks(names: SchedulerNames, operation: str, params: Mapping[str, Any]) -> list[Check]:
    """IAM actions and resources of an EventBridge Scheduler call (Service Authorization Reference):
    `scheduler:<Operation>` on the schedule or group it names, and `iam:PassRole` of the target's role."""
    action = f"scheduler:{operation}"
    if "ResourceArn" in params:
        return [Check(action, str(params["ResourceArn"]))]
    if operation.endswith("ScheduleGroup"):
        return [Check(action, names.group_arn(str(params["Name"])))]
    if operation.endswith("Schedule"):
        group = str(params.get("GroupName") or DEFAULT_GROUP)
        checks = [Check(action, names.schedule_arn(group, str(params["Name"])))]
        role = (params.get("Target") or {}).get("RoleArn")
        if role is not None:
            checks.append(pass_role(str(role), SCHEDULER_PRINCIPAL))
        return checks
    return [Check(action, "*")]


class SchedulerApi:
    def __init__(self, scheduler: SchedulerService, authorizer: Authorizer | None = None) -> None:
        self._scheduler = scheduler
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)
        self.protocol = RestJsonProtocol(load_service_model("scheduler"))
        self._handlers = with_service(HANDLERS, scheduler)

    async def handle(self, request: WireRequest) -> WireResponse:
        return await self.protocol.answer(
            request,
            self._handlers,
            params_only,
            service="EventBridge Scheduler",
            internal_code="InternalServerException",
            internal_message="Unexpected error during processing of request.",
            authorize=None
            if self._authorizer is None
            else self._authorizer.hook(request.principal_arn, request.client_host, "scheduler", self._checks),
        )

    def _checks(self, operation: str, params: dict[str, Any]) -> list[Check]:
        return scheduler_checks(self._scheduler.names, operation, params)
