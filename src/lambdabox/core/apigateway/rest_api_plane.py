"""The data plane of REST APIs (apigateway): the stage, resource and method a request is for, stage
throttling, the resource policy, AWS_IAM and Lambda authorizers, API keys and usage plans, request
validation, MOCK integrations and the Lambda proxy integration (payload 1.0) and its answer.

Errors are answered as API Gateway does: 403 Missing Authentication Token for an unknown resource or
method, 502 Internal server error for a function error or malformed result, 500 when Lambda refuses the
call (permission, throttle), 504 Endpoint request timed out, 429 for stage throttling and usage plans,
400 for a request its validator refuses, 413 for a body over 10 MB."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import orjson

from lambdabox.core import ids
from lambdabox.core.apigateway.access import ExecuteAccess, IamRefused, Signer, refusal
from lambdabox.core.apigateway.authorizers import AuthorizerFailed, RouteAuthorizer
from lambdabox.core.apigateway.integration import (
    MAX_REQUEST_BODY,
    IntegrationFailed,
    LambdaIntegration,
    with_stage_variables,
)
from lambdabox.core.apigateway.jwt import Forbidden, Unauthorized
from lambdabox.core.apigateway.mock import MockFailed, mock_answer
from lambdabox.core.apigateway.models import ApiKey, Method, Resource, RestApi, RestDeployment, RestStage
from lambdabox.core.apigateway.names import GatewayNames, apigw_id
from lambdabox.core.apigateway.plane import DataPlane
from lambdabox.core.apigateway.rest_models import request_problem
from lambdabox.core.apigateway.routing import Candidate, PathTemplate, best_match
from lambdabox.core.apigateway.store import ApiGatewayStore
from lambdabox.core.apigateway.usage import KeyNotAdmitted
from lambdabox.core.apigateway.usage_plans import UsageGate
from lambdabox.core.http.payload_v1 import event_v1, response_v1
from lambdabox.core.http.request import HttpRequest, HttpResponse, MalformedResponse
from lambdabox.core.identity import AccessKey

log = logging.getLogger("lambdabox.apigateway")

_ERRORS: dict[str, tuple[int, str | None, str]] = {
    "not-found": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "forbidden": (403, "Forbidden", "ForbiddenException"),
    "unauthorized": (401, "Unauthorized", "UnauthorizedException"),
    "denied": (403, "User is not authorized to access this resource", "AccessDeniedException"),
    "explicitly-denied": (
        403,
        "User is not authorized to access this resource with an explicit deny",
        "AccessDeniedException",
    ),
    "authorizer-failed": (500, None, "AuthorizerConfigurationException"),
    "unsigned": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "signature": (403, None, "InvalidSignatureException"),
    "iam-denied": (403, None, "AccessDeniedException"),
    "no-api-key": (403, "Forbidden", "ForbiddenException"),
    "too-many-requests": (429, "Too Many Requests", "TooManyRequestsException"),
    "quota": (429, "Limit Exceeded", "LimitExceededException"),
    "bad-request": (400, None, "BadRequestException"),
    "unsupported-media-type": (415, "Unsupported Media Type", "UnsupportedMediaTypeException"),
    "refused": (500, "Internal server error", "InternalServerErrorException"),
    "throttled": (500, "Internal server error", "InternalServerErrorException"),
    "function": (502, "Internal server error", "InternalServerErrorException"),
    "malformed": (502, "Internal server error", "InternalServerErrorException"),
    "timeout": (504, "Endpoint request timed out", "InternalServerErrorException"),
    "too-large": (413, "Request Too Long", "RequestTooLargeException"),
}


def rest_api_error(kind: str, request_id: str, message: str | None = None) -> HttpResponse:
    """`message` words the kinds whose text depends on the request (a signature problem, an IAM denial)."""
    status, default, error_type = _ERRORS[kind]
    message = message if message is not None else default
    headers = (
        ("content-type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", error_type),
        ("x-amz-apigw-id", apigw_id()),
    )
    # An authorizer's denial is worded under "Message", as API Gateway sends it.
    key = "Message" if error_type == "AccessDeniedException" else "message"
    return HttpResponse(status, headers, orjson.dumps({key: message}))


class RestApiPlane(DataPlane):
    def __init__(
        self,
        store: ApiGatewayStore,
        names: GatewayNames,
        integration: LambdaIntegration,
        access: ExecuteAccess,
        authorizer: RouteAuthorizer,
        usage: UsageGate,
        now: Callable[[], float],
    ) -> None:
        """`usage`: the API keys and usage plans of methods with apiKeyRequired."""
        super().__init__(store, names, integration, access, authorizer, now)
        self._usage = usage

    async def _authorize(
        self,
        api: RestApi,
        stage: RestStage,
        deployment: RestDeployment,
        method: Method,
        request: HttpRequest,
        method_arn: str,
        build: Callable[[Mapping[str, Any] | None], dict[str, Any]],
    ) -> tuple[dict[str, Any], str | None]:
        """`requestContext.authorizer` for a CUSTOM method, from the deployed authorizer it names, and the
        API key that authorizer named."""
        authorizer = next(
            (a for a in deployment.authorizers if a.authorizer_id == method.authorizer_id), None
        )
        if authorizer is None:
            raise AuthorizerFailed(f"authorizer {method.authorizer_id} is not part of the deployment")
        return await self._authorizer.authorize_rest(
            authorizer,
            request,
            source_arn=self._names.execute_arn(api.api_id, f"authorizers/{authorizer.authorizer_id}"),
            method_arn=method_arn,
            stage_variables=stage.variables,
            event=lambda: build(None),
        )

    async def serve(self, api: RestApi, request: HttpRequest, signer: Signer) -> HttpResponse:
        request_id = str(uuid.uuid4())
        # REST APIs hand header names to the function as the client sent them; the HTTP server has
        # lower-cased them, so they are restored to their canonical form (Content-Type, X-Api-Key).
        request = replace(request, headers=tuple((_canonical(k), v) for k, v in request.headers))
        first, _, rest = request.raw_path[1:].partition("/")
        if not first or api.disable_execute_api_endpoint:
            return rest_api_error("forbidden", request_id)  # the bare endpoint, without a stage
        stage = self._store.get(RestStage, api.api_id, unquote(first))
        deployment = (
            None if stage is None else self._store.get(RestDeployment, api.api_id, stage.deployment_id)
        )
        if stage is None or deployment is None:
            return rest_api_error("not-found", request_id)
        if len(request.body) > MAX_REQUEST_BODY:
            return rest_api_error("too-large", request_id)
        resource_path = "/" + rest
        candidates: list[Candidate[tuple[Resource, Method]]] = [
            Candidate(name, PathTemplate.parse(resource.path), (resource, method))
            for resource in deployment.resources
            for name, method in resource.methods.items()
        ]
        match = best_match(candidates, request.method, resource_path)
        if match is None or match.item[1].integration is None:
            return rest_api_error("not-found", request_id)
        resource, method = match.item
        integration = method.integration
        assert integration is not None
        now = self._now()
        method_arn = self._names.execute_arn(api.api_id, f"{stage.name}/{request.method}{resource_path}")
        setting = f"{resource.path.replace('/', '~1')}/{method.http_method}"
        settings = {**stage.method_settings.get("*/*", {}), **stage.method_settings.get(setting, {})}
        if not self._buckets.take(
            (api.api_id, stage.name, setting),
            settings.get("throttlingRateLimit"),
            settings.get("throttlingBurstLimit"),
        ):
            return rest_api_error("too-many-requests", request_id)
        caller: AccessKey | None = None
        api_key: ApiKey | None = None
        try:
            if method.authorization_type == "AWS_IAM":
                caller = self._access.caller(signer, method_arn, request.source_ip, deployment.policy)
            elif deployment.policy is not None:  # anonymous callers need its allow; authorizers its no-deny
                custom = method.authorization_type == "CUSTOM"
                self._access.check(None, method_arn, request.source_ip, deployment.policy, deny_only=custom)
        except IamRefused as refused:
            log.info("REST API %s request %s: %s", api.api_id, request_id, refused)
            message = None if refused.kind == "unsigned" else str(refused)
            return rest_api_error(refused.kind, request_id, message)

        def build(authorizer: Mapping[str, Any] | None) -> dict[str, Any]:
            return event_v1(
                request,
                resource=resource.path,
                path=unquote(resource_path),
                stage=stage.name,
                stage_path=request.path,
                api_id=api.api_id,
                account_id=self._names.account.account_id,
                request_id=request_id,
                now=now,
                binary=_is_binary(api, request),
                resource_id=resource.resource_id,
                path_parameters=match.path_parameters,
                stage_variables=stage.variables,
                authorizer=authorizer,
                caller=caller,
                api_key=(api_key.key_id, api_key.value) if api_key is not None else None,
            )

        authorized: dict[str, Any] | None = None
        usage_key: str | None = None
        if method.authorization_type == "CUSTOM":
            started = time.monotonic()
            try:
                authorized, usage_key = await self._authorize(
                    api, stage, deployment, method, request, method_arn, build
                )
            except (Unauthorized, Forbidden, AuthorizerFailed) as refused:
                return rest_api_error(refusal(refused, api.api_id, request_id), request_id)
            authorized["integrationLatency"] = round((time.monotonic() - started) * 1000)
        if method.api_key_required:
            presented = usage_key if api.api_key_source == "AUTHORIZER" else request.header("x-api-key")
            try:
                api_key = self._usage.admit(api.api_id, stage.name, presented)
            except KeyNotAdmitted as refused:
                log.info("REST API %s request %s: %s", api.api_id, request_id, refused)
                return rest_api_error(refused.kind, request_id)
        problem = request_problem(
            method, deployment.validators, deployment.models, request, match.path_parameters
        )
        if problem is not None:
            return rest_api_error("bad-request", request_id, problem)
        if integration.type == "MOCK":
            try:
                answer = mock_answer(integration, request, match.path_parameters)
            except MockFailed as failed:
                log.warning("REST API %s request %s: MOCK integration: %s", api.api_id, request_id, failed)
                return rest_api_error(failed.kind, request_id)
            headers = (*answer.headers, ("x-amzn-RequestId", request_id), ("x-amz-apigw-id", apigw_id()))
            return HttpResponse(answer.status, headers, answer.body)
        event = build(authorized)
        source_arn = self._names.execute_arn(api.api_id, f"{stage.name}/{request.method}{resource.path}")
        try:
            result = await self._integration.invoke(
                with_stage_variables(integration.uri or "", stage.variables),
                source_arn,
                orjson.dumps(event),
                integration.timeout_ms / 1000,
            )
            response = response_v1(result.payload)
        except IntegrationFailed as failed:
            log.warning("REST API %s request %s: %s", api.api_id, request_id, failed)
            return rest_api_error(failed.kind, request_id)
        except MalformedResponse as malformed:
            log.warning(
                "REST API %s request %s: malformed Lambda proxy response: %s",
                api.api_id,
                request_id,
                malformed,
            )
            return rest_api_error("malformed", request_id)
        extra = (
            ("x-amzn-RequestId", request_id),
            ("x-amz-apigw-id", apigw_id()),
            ("X-Amzn-Trace-Id", ids.trace_root()),
        )
        return HttpResponse(response.status, (*response.headers, *extra), response.body)


def _is_binary(api: RestApi, request: HttpRequest) -> bool:
    """REST APIs hand bodies to the function as text unless the content type is a binary media type."""
    if not request.body or not api.binary_media_types:
        return False
    content_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
    for media in api.binary_media_types:
        media = media.lower()
        if media == "*/*" or media == content_type:
            return True
        if media.endswith("/*") and content_type.startswith(media[:-1]):
            return True
    return False


def _canonical(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-")) if name.islower() else name
