"""The API Gateway control planes on the shared port: both sign as `apigateway`; HTTP API (apigatewayv2)
operations live under `/v2/`, REST API (apigateway v1) operations everywhere else."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import cached_property
from typing import Any
from urllib.parse import unquote

from lambdabox.api.apigateway import v1, v2
from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_json import RestJsonProtocol
from lambdabox.aws.validation import validate_input
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.apigateway.http_apis import HttpApiService
from lambdabox.core.apigateway.rest_apis import RestApiService
from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.apigateway")


class ApiGatewayControl:
    def __init__(
        self, http_apis: HttpApiService, rest_apis: RestApiService, authorizer: Authorizer | None = None
    ) -> None:
        self._http_apis = http_apis
        self._rest_apis = rest_apis
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)
        self._region = http_apis.names.account.region

    # The models load with the first call (a few MB that servers without API Gateway users never need).
    @cached_property
    def _v2(self) -> RestJsonProtocol:
        return RestJsonProtocol(load_service_model("apigatewayv2"))

    @cached_property
    def _v1(self) -> RestJsonProtocol:
        return RestJsonProtocol(load_service_model("apigateway"))

    async def handle(self, request: WireRequest) -> WireResponse:
        if request.raw_path.startswith("/v2/"):
            return self._answer(self._v2, request, self._run_v2)
        return self._answer(self._v1, request, self._run_v1)

    def _run_v2(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        handler = v2.HANDLERS.get(name)
        if handler is None:
            raise _not_implemented(name)
        return handler(self._http_apis, params)

    def _run_v1(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        handler = v1.HANDLERS.get(name)
        if handler is None:
            raise _not_implemented(name)
        return handler(self._rest_apis, params)

    def _answer(
        self,
        protocol: RestJsonProtocol,
        request: WireRequest,
        run: Callable[[str, dict[str, Any]], dict[str, Any] | None],
    ) -> WireResponse:
        request_id = str(uuid.uuid4())
        try:
            operation, path_params = protocol.route(request)
            self._authorize(request)
            params = protocol.parse(operation, request, path_params)
            validate_input(operation, params, code="BadRequestException")
            response = protocol.serialize(operation, run(operation.name, params))
        except AwsError as error:
            response = protocol.serialize_error(error)
        except Exception:
            log.exception("API Gateway request %s failed", request_id)
            response = protocol.serialize_error(
                AwsError("InternalServerError", "An internal error occurred. The request was logged.", 500)
            )
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def _authorize(self, request: WireRequest) -> None:
        """API Gateway's IAM actions are the HTTP method on the resource the path names:
        `apigateway:GET` on `arn:aws:apigateway:<region>::/apis/<id>/routes` (v2 paths without `/v2`)."""
        authorizer = self._authorizer
        if authorizer is None:
            return
        path = unquote(request.raw_path)
        path = path[len("/v2") :] if path.startswith("/v2/") else path
        check = Check(f"apigateway:{request.method}", f"arn:aws:apigateway:{self._region}::{path}")
        authorizer.authorize(
            request.principal_arn, lambda: [check], service="apigateway", source_ip=request.client_host
        )


def _not_implemented(name: str) -> AwsError:
    return AwsError(
        "NotImplementedException",
        f"The API Gateway operation {name} is not implemented by Lambdabox yet.",
        501,
    )
