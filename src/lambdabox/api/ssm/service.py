"""The Parameter Store front end: json-protocol dispatch, and each operation's IAM action and resource."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from lambdabox.api.ssm import labels, parameters
from lambdabox.aws.json_protocol import JsonProtocol
from lambdabox.aws.model import load_service_model
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.parameters.service import ParameterService

Handler = Callable[[ParameterService, dict[str, Any]], dict[str, Any] | None]

HANDLERS: dict[str, Handler] = {
    "PutParameter": parameters.put_parameter,
    "GetParameter": parameters.get_parameter,
    "GetParameters": parameters.get_parameters,
    "GetParametersByPath": parameters.get_parameters_by_path,
    "DescribeParameters": parameters.describe_parameters,
    "GetParameterHistory": parameters.get_parameter_history,
    "DeleteParameter": parameters.delete_parameter,
    "DeleteParameters": parameters.delete_parameters,
    "LabelParameterVersion": labels.label_parameter_version,
    "UnlabelParameterVersion": labels.unlabel_parameter_version,
    "AddTagsToResource": labels.add_tags_to_resource,
    "RemoveTagsFromResource": labels.remove_tags_from_resource,
    "ListTagsForResource": labels.list_tags_for_resource,
}

# The IAM action of every operation (for identity-policy enforcement): `ssm:<Operation>`.
ACTIONS: dict[str, str] = {operation: f"ssm:{operation}" for operation in HANDLERS}


def resource_arns(ssm: ParameterService, operation: str, params: dict[str, Any]) -> list[str]:
    """The parameters an operation acts on, as IAM sees them (GetParametersByPath: the path's ARN;
    DescribeParameters: `*`)."""
    if operation == "GetParametersByPath":
        return [ssm.arn(str(params["Path"]).rstrip("/") or "/")]
    if operation in ("GetParameters", "DeleteParameters"):
        return [ssm.arn(str(name).split(":", 1)[0]) for name in params.get("Names") or []]
    name = params.get("Name") or params.get("ResourceId")
    if not isinstance(name, str):
        return ["*"]
    return [name if name.startswith("arn:") else ssm.arn(name.split(":", 1)[0])]


class SsmApi:
    def __init__(self, ssm: ParameterService, authorizer: Authorizer | None = None) -> None:
        self._ssm = ssm
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)

    @cached_property
    def protocol(self) -> JsonProtocol:
        """Loaded at the first request: the model is megabytes a server that never sees one need not hold."""
        return JsonProtocol(load_service_model("ssm"))

    async def handle(self, request: WireRequest) -> WireResponse:
        return self.protocol.answer(
            request,
            HANDLERS,
            self._ssm,
            service="Systems Manager",
            internal_code="InternalServerError",
            authorize=None
            if self._authorizer is None
            else self._authorizer.hook(
                request.principal_arn,
                request.client_host,
                "ssm",
                lambda operation, params: [
                    Check(ACTIONS[operation], arn) for arn in resource_arns(self._ssm, operation, params)
                ],
            ),
        )
