"""The EventBridge Scheduler front end: model-driven rest-json routing and (de)serialization."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from lambdabox.api.scheduler.handlers import HANDLERS
from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_json import RestJsonProtocol
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.actions import Check, pass_role
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.scheduler.models import DEFAULT_GROUP
from lambdabox.core.scheduler.names import SchedulerNames
from lambdabox.core.scheduler.service import SchedulerService
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.scheduler")

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

    async def handle(self, request: WireRequest) -> WireResponse:
        request_id = str(uuid.uuid4())
        try:
            operation, path_params = self.protocol.route(request)
            params = self.protocol.parse(operation, request, path_params)
            self.protocol.validate(operation, params)
            if self._authorizer is not None:
                name = operation.name
                self._authorizer.authorize(
                    request.principal_arn,
                    lambda: scheduler_checks(self._scheduler.names, name, params),
                    service="scheduler",
                    source_ip=request.client_host,
                )
            output = HANDLERS[operation.name](self._scheduler, params)
            response = self.protocol.serialize(operation, output)
        except AwsError as error:
            response = self.protocol.serialize_error(error)
        except Exception:
            log.exception("EventBridge Scheduler request %s failed", request_id)
            response = self.protocol.serialize_error(
                AwsError("InternalServerException", "Unexpected error during processing of request.", 500)
            )
        response.headers["x-amzn-RequestId"] = request_id
        return response
