"""The API Gateway control planes on the shared port: both sign as `apigateway`; HTTP API (apigatewayv2)
operations live under `/v2/`, REST API (apigateway v1) operations everywhere else."""

from __future__ import annotations

from functools import cached_property
from urllib.parse import unquote

from lambdabox.api.apigateway import v1, v1_keys, v1_models, v2
from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_json import RestJsonProtocol, params_only, with_service
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.apigateway.http_apis import HttpApiService
from lambdabox.core.apigateway.rest_apis import RestApiService
from lambdabox.core.apigateway.rest_models import RestModelService
from lambdabox.core.apigateway.usage_plans import UsagePlanService
from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.authorizer import Authorizer


class ApiGatewayControl:
    def __init__(
        self,
        http_apis: HttpApiService,
        rest_apis: RestApiService,
        usage_plans: UsagePlanService,
        rest_models: RestModelService,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._v2_handlers = with_service(v2.HANDLERS, http_apis)
        self._v1_handlers = {
            **with_service(v1.HANDLERS, rest_apis),
            **with_service(v1_keys.HANDLERS, usage_plans),
            **with_service(v1_models.HANDLERS, rest_models),
        }
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)
        self._region = http_apis.names.account.region

    # The models load with the first call (a few MB that servers without API Gateway users never need).
    @cached_property
    def _v2(self) -> RestJsonProtocol:
        return RestJsonProtocol(load_service_model("apigatewayv2"), validation_code="BadRequestException")

    @cached_property
    def _v1(self) -> RestJsonProtocol:
        return RestJsonProtocol(load_service_model("apigateway"), validation_code="BadRequestException")

    async def handle(self, request: WireRequest) -> WireResponse:
        v2_path = request.raw_path.startswith("/v2/")
        return await (self._v2 if v2_path else self._v1).answer(
            request,
            self._v2_handlers if v2_path else self._v1_handlers,
            params_only,
            service="API Gateway",
            internal_code="InternalServerError",
            admit=None if self._authorizer is None else self._admit,
        )

    def _admit(self, request: WireRequest) -> None:
        """API Gateway's IAM actions are the HTTP method on the resource the path names:
        `apigateway:GET` on `arn:aws:apigateway:<region>::/apis/<id>/routes` (v2 paths without `/v2`)."""
        assert self._authorizer is not None
        path = unquote(request.raw_path)
        path = path[len("/v2") :] if path.startswith("/v2/") else path
        check = Check(f"apigateway:{request.method}", f"arn:aws:apigateway:{self._region}::{path}")
        self._authorizer.authorize(
            request.principal_arn, lambda: [check], service="apigateway", source_ip=request.client_host
        )
