"""The API Gateway data plane, without sockets: a request to an API's endpoint goes to the data plane of
the API's type (http_api_plane, rest_api_plane), which share the Lambda integration (integration), the
check of who may call (access) and the Lambda authorizers with their answer cache (authorizers)."""

from __future__ import annotations

import time
from collections.abc import Callable

from lambdabox.core.apigateway.access import ExecuteAccess, Signer, unsigned
from lambdabox.core.apigateway.authorizers import RouteAuthorizer
from lambdabox.core.apigateway.http_api_plane import HttpApiPlane, http_api_error
from lambdabox.core.apigateway.integration import LambdaIntegration
from lambdabox.core.apigateway.jwt import JwtValidator
from lambdabox.core.apigateway.models import HttpApi, RestApi
from lambdabox.core.apigateway.names import GatewayNames, apigw_id
from lambdabox.core.apigateway.rest_api_plane import RestApiPlane, rest_api_error
from lambdabox.core.apigateway.store import ApiGatewayStore
from lambdabox.core.apigateway.usage_plans import UsageGate
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.http.request import HttpRequest, HttpResponse
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.invoke import InvokeService


class Gateway:
    def __init__(
        self,
        store: ApiGatewayStore,
        names: GatewayNames,
        invoker: InvokeService,
        settings: FunctionSettings,
        jwt: JwtValidator,
        usage: UsageGate,
        iam: Authorizer | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        """`usage`: the API keys and usage plans of methods with apiKeyRequired; `iam`: who may invoke
        AWS_IAM routes and methods (None: authorization is off, every signer may)."""
        self._store = store
        integration = LambdaIntegration(names, invoker, settings)
        access = ExecuteAccess(iam)
        authorizer = RouteAuthorizer(jwt, integration.invoke_authorizer)
        self._http = HttpApiPlane(store, names, integration, access, authorizer, now)
        self._rest = RestApiPlane(store, names, integration, access, authorizer, usage, now)

    def too_large(self, api_id: str | None) -> HttpResponse:
        """The answer to a body over `MAX_REQUEST_BODY`, refused as it arrives: in the words of the API's
        type (an HTTP API's when the API is unknown)."""
        if api_id is not None and self._store.get(RestApi, api_id, api_id) is not None:
            return rest_api_error("too-large", apigw_id())
        return http_api_error("too-large", apigw_id())

    async def handle(self, api_id: str, request: HttpRequest, signer: Signer = unsigned) -> HttpResponse:
        """Answer `request`; its `raw_path` is the path below the API's endpoint (stage included)."""
        http_api = self._store.get(HttpApi, api_id, api_id)
        if http_api is not None:
            return await self._http.serve(http_api, request, signer)
        rest_api = self._store.get(RestApi, api_id, api_id)
        if rest_api is not None:
            return await self._rest.serve(rest_api, request, signer)
        return http_api_error("not-found", apigw_id())
