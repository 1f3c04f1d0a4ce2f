"""The API Gateway data plane, without sockets: find what a request to an API is for (stage, route or
resource), authorize it, invoke the Lambda proxy integration synchronously and map the result back.

HTTP APIs answer `{"message": ...}` errors as API Gateway does: 404 Not Found (no stage, deployment or
route), 401/403 from authorizers, 500 Internal Server Error (function error, malformed result, missing
permission), 429 Too Many Requests (function throttled), 503 Service Unavailable (integration timeout).
REST APIs answer 403 Missing Authentication Token for an unknown resource or method, 502 Internal server
error for a function error or malformed result, 500 when Lambda refuses the call (permission, throttle),
504 Endpoint request timed out."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote

import orjson

from lambdabox.core import ids
from lambdabox.core.apigateway.authorizers import (
    Authorized,
    AuthorizerFailed,
    ExplicitlyDenied,
    RouteAuthorizer,
)
from lambdabox.core.apigateway.cors import apply_cors, is_preflight, preflight
from lambdabox.core.apigateway.jwt import Forbidden, JwtValidator, Unauthorized
from lambdabox.core.apigateway.mock import MockFailed, mock_answer
from lambdabox.core.apigateway.models import (
    ApiKey,
    Deployment,
    HttpApi,
    Method,
    Resource,
    RestApi,
    RestDeployment,
    RestStage,
    Route,
    Stage,
)
from lambdabox.core.apigateway.names import GatewayNames, lambda_arn_of
from lambdabox.core.apigateway.rest_models import request_problem
from lambdabox.core.apigateway.routing import (
    DEFAULT_ROUTE,
    Candidate,
    PathTemplate,
    best_match,
    parse_route_key,
)
from lambdabox.core.apigateway.store import ApiGatewayStore
from lambdabox.core.apigateway.throttle import Buckets
from lambdabox.core.apigateway.usage_plans import KeyNotAdmitted, UsageGate
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.http.payload_v1 import event_v1, response_v1
from lambdabox.core.http.payload_v2 import event_v2, iam_authorizer, response_v2
from lambdabox.core.http.request import HttpRequest, HttpResponse, MalformedResponse
from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.iam.policy import ALLOWED, Decision, Outcome, document_decision
from lambdabox.core.identity import AccessKey
from lambdabox.core.invoke import InvokeService
from lambdabox.core.models import InvocationResult
from lambdabox.core.names import parse_function_ref
from lambdabox.core.resource_policy import invocation_allowed
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.apigateway")

PRINCIPAL = "apigateway.amazonaws.com"
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
MAX_REQUEST_BODY = 10 * 1024 * 1024


Signer = Callable[[], AccessKey | None]
"""The verified signer of the request being answered (None: it is not signed); raises SignatureRefused.
Asked only when the route or method is AWS_IAM."""


def _unsigned() -> AccessKey | None:
    return None


class SignatureRefused(Exception):
    """The request's signature is malformed or does not match (the message: AWS's words)."""


class _IamRefused(Exception):
    """An AWS_IAM route or method refused the request; `kind`: unsigned | signature | iam-denied."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Failed(Exception):
    """The integration could not produce a response; `kind` picks the status each API type answers."""

    def __init__(self, kind: str, reason: str, payload: bytes = b"") -> None:
        super().__init__(reason)
        self.kind = kind  # "refused" | "throttled" | "timeout" | "function" | "malformed" | "too-large"
        self.payload = payload  # the function's error document ("function")


# -- the answers of each API type ----------------------------------------------------------------------
_HTTP_API_ERRORS = {
    "not-found": (404, "Not Found"),
    "unauthorized": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden"),
    "denied": (403, "Forbidden"),
    "explicitly-denied": (403, "Forbidden"),
    "authorizer-failed": (500, "Internal Server Error"),
    "unsigned": (403, "Forbidden"),
    "signature": (403, "Forbidden"),
    "iam-denied": (403, "Forbidden"),
    "refused": (500, "Internal Server Error"),
    "function": (500, "Internal Server Error"),
    "malformed": (500, "Internal Server Error"),
    "throttled": (429, "Too Many Requests"),
    "timeout": (503, "Service Unavailable"),
    "too-large": (413, "Request Entity Too Large"),
}
_REST_API_ERRORS: dict[str, tuple[int, str | None, str]] = {
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


def http_api_error(kind: str, request_id: str) -> HttpResponse:
    status, message = _HTTP_API_ERRORS[kind]
    headers: list[tuple[str, str]] = [("content-type", "application/json"), ("apigw-requestid", request_id)]
    if kind == "unauthorized":
        headers.append(
            (
                "www-authenticate",
                'Bearer scope="" error="invalid_token" error_description="the token is not valid"',
            )
        )
    return HttpResponse(status, tuple(headers), orjson.dumps({"message": message}))


def rest_api_error(kind: str, request_id: str, message: str | None = None) -> HttpResponse:
    """`message` words the kinds whose text depends on the request (a signature problem, an IAM denial)."""
    status, default, error_type = _REST_API_ERRORS[kind]
    message = message if message is not None else default
    headers = (
        ("content-type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", error_type),
        ("x-amz-apigw-id", _apigw_id()),
    )
    # An authorizer's denial is worded under "Message", as API Gateway sends it.
    key = "Message" if error_type == "AccessDeniedException" else "message"
    return HttpResponse(status, headers, orjson.dumps({key: message}))


def _apigw_id() -> str:
    return base64.b64encode(os.urandom(10)).decode()


@dataclass(frozen=True)
class _HttpTarget:
    stage: Stage
    route_path: str  # the path below the stage


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
        self._usage = usage
        self._iam = iam
        self._stage_buckets = Buckets()  # stage throttling, by (API, stage, route or method setting)
        self._store = store
        self._names = names
        self._invoker = invoker
        self._settings = settings
        self._now = now
        self._authorizer = RouteAuthorizer(jwt, self._invoke_payload)

    def too_large(self, api_id: str | None) -> HttpResponse:
        """The answer to a body over `MAX_REQUEST_BODY`, refused as it arrives: in the words of the API's
        type (an HTTP API's when the API is unknown)."""
        if api_id is not None and self._store.get(RestApi, api_id, api_id) is not None:
            return rest_api_error("too-large", _apigw_id())
        return http_api_error("too-large", _apigw_id())

    async def handle(self, api_id: str, request: HttpRequest, signer: Signer = _unsigned) -> HttpResponse:
        """Answer `request`; its `raw_path` is the path below the API's endpoint (stage included)."""
        http_api = self._store.get(HttpApi, api_id, api_id)
        if http_api is not None:
            return await self._http_api(http_api, request, signer)
        rest_api = self._store.get(RestApi, api_id, api_id)
        if rest_api is not None:
            return await self._rest_api(rest_api, request, signer)
        return http_api_error("not-found", _apigw_id())

    # -- invoking the integration ---------------------------------------------------------------------
    async def _invoke(
        self, function_uri: str, source_arn: str, payload: bytes, timeout: float
    ) -> InvocationResult:
        function_arn = lambda_arn_of(function_uri)
        if function_arn is None:
            raise _Failed("refused", f"{function_uri} is not a Lambda function")
        try:
            ref = parse_function_ref(self._names.account, function_arn)
        except AwsError as error:
            raise _Failed("refused", error.message) from None
        if not invocation_allowed(self._settings, self._names.account, ref, PRINCIPAL, source_arn):
            raise _Failed(
                "refused",
                f"Execution failed due to configuration error: Invalid permissions on Lambda function "
                f"{function_arn} (no statement allows {PRINCIPAL} for {source_arn})",
            )
        task = asyncio.ensure_future(self._invoker.invoke(ref, payload))
        task.add_done_callback(_retrieve)
        try:
            result = await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            raise _Failed("timeout", f"the integration did not answer within {timeout:g} s") from None
        except AwsError as error:
            if error.code == "TooManyRequestsException":
                raise _Failed("throttled", error.message) from None
            if error.code == "RequestEntityTooLargeException":
                raise _Failed("too-large", error.message) from None
            raise _Failed("refused", f"{error.code}: {error.message}") from None
        if result.function_error is not None:
            raise _Failed("function", f"the function failed: {result.payload[:500]!r}", result.payload)
        return result

    async def _invoke_payload(self, function_uri: str, source_arn: str, payload: bytes) -> bytes:
        """For Lambda authorizers: a function that fails with the message "Unauthorized" refuses the
        request (401); any other failure is the authorizer's (500)."""
        try:
            return (await self._invoke(function_uri, source_arn, payload, 10.0)).payload
        except _Failed as failed:
            if failed.kind == "function" and _error_message(failed.payload) == "Unauthorized":
                raise Unauthorized("the authorizer answered Unauthorized") from None
            raise AuthorizerFailed(str(failed)) from None

    def _iam_caller(self, signer: Signer, arn: str, source_ip: str, policy: str | None = None) -> AccessKey:
        """The signer of a request to an AWS_IAM route or method, allowed `execute-api:Invoke` on `arn`
        by its IAM policies or by the API's resource `policy` (a REST API's)."""
        try:
            caller = signer()
        except SignatureRefused as refused:
            raise _IamRefused("signature", str(refused)) from None
        if caller is None:
            raise _IamRefused("unsigned", "the request is not signed")
        self._may_invoke(caller.principal_arn, arn, source_ip, policy)
        return caller

    def _may_invoke(
        self,
        principal_arn: str | None,
        arn: str,
        source_ip: str,
        policy: str | None,
        *,
        deny_only: bool = False,
    ) -> None:
        """`execute-api:Invoke` on `arn` for `principal_arn` (None: anonymous), by its IAM policies and the
        API's resource `policy`; `deny_only`: only an explicit deny in `policy` refuses (the caller was
        admitted otherwise: by a Lambda authorizer). The root user is refused only by an explicit deny.
        Raises _IamRefused("iam-denied") in API Gateway's words; nothing is checked with authorization off."""
        if self._iam is None:
            return
        principal = self._iam.principal(principal_arn)
        if (principal.is_root or deny_only) and policy is None:
            return
        check = Check("execute-api:Invoke", arn, policy=policy)
        keys = self._iam.request_keys(principal, source_ip)
        if principal.is_root or deny_only:
            decision = (
                Decision.IMPLICIT_DENY
                if policy is None
                else document_decision(policy, check.action, arn, keys)
            )
            outcome = Outcome(Decision.EXPLICIT_DENY) if decision is Decision.EXPLICIT_DENY else ALLOWED
        else:
            outcome = self._iam.decide(principal, check, keys)
        if not outcome.allowed:
            explicit = " with an explicit deny" if outcome.decision is Decision.EXPLICIT_DENY else ""
            raise _IamRefused(
                "iam-denied",
                f"User: {principal_arn or 'anonymous'} is not authorized to perform: execute-api:Invoke on "
                f"resource: {arn}{explicit}",
            )

    # -- HTTP APIs ------------------------------------------------------------------------------------
    def _http_target(self, api_id: str, raw_path: str) -> _HttpTarget | None:
        stages = {stage.name: stage for stage in self._store.list(Stage, api_id)}
        first, _, rest = raw_path[1:].partition("/")
        named = stages.get(unquote(first))
        if named is not None and named.name != "$default":
            return _HttpTarget(named, "/" + rest)
        default = stages.get("$default")
        return _HttpTarget(default, raw_path) if default is not None else None

    async def _http_api(self, api: HttpApi, request: HttpRequest, signer: Signer) -> HttpResponse:
        request_id = _apigw_id()
        if api.disable_execute_api_endpoint:
            return http_api_error("forbidden", request_id)
        if api.cors is not None and is_preflight(request):
            return preflight(api.cors, request, request_id)
        response = await self._http_api_route(api, request, request_id, signer)
        return apply_cors(api.cors, request, response) if api.cors is not None else response

    async def _http_api_route(
        self, api: HttpApi, request: HttpRequest, request_id: str, signer: Signer
    ) -> HttpResponse:
        if len(request.body) > MAX_REQUEST_BODY:
            return http_api_error("too-large", request_id)
        target = self._http_target(api.api_id, request.raw_path)
        if target is None or target.stage.deployment_id is None:
            return http_api_error("not-found", request_id)
        deployment = self._store.get(Deployment, api.api_id, target.stage.deployment_id)
        if deployment is None:
            return http_api_error("not-found", request_id)
        snapshot = deployment.snapshot
        candidates: list[Candidate[Route]] = []
        default_route: Route | None = None
        for candidate in snapshot.routes:
            parsed = parse_route_key(candidate.route_key)
            if parsed is None:
                default_route = candidate
            else:
                candidates.append(Candidate(parsed[0], parsed[1], candidate))
        match = best_match(candidates, request.method, target.route_path)
        chosen = match.item if match is not None else default_route
        if chosen is None:
            return http_api_error("not-found", request_id)
        route = chosen
        path_parameters = match.path_parameters if match is not None else {}
        integrations = {i.integration_id: i for i in snapshot.integrations}
        integration = integrations.get(route.integration_id or "")
        if integration is None:
            return http_api_error("not-found", request_id)
        stage = target.stage
        now = self._now()
        route_path = match.template.path if match is not None else None
        arn_tail = f"{request.method}{route_path}" if route_path is not None else DEFAULT_ROUTE
        source_arn = self._names.execute_arn(api.api_id, f"{stage.name}/{arn_tail}")
        route_arn = self._names.execute_arn(api.api_id, f"{stage.name}/{request.method}{target.route_path}")
        route_settings = {**stage.default_route_settings, **stage.route_settings.get(route.route_key, {})}
        if not self._stage_buckets.take(
            (api.api_id, stage.name, route.route_key),
            route_settings.get("ThrottlingRateLimit"),
            route_settings.get("ThrottlingBurstLimit"),
        ):
            return http_api_error("throttled", request_id)
        caller: AccessKey | None = None
        if route.authorization_type == "AWS_IAM":
            try:
                caller = self._iam_caller(signer, route_arn, request.source_ip)
            except _IamRefused as refused:
                log.info("API %s request %s: %s", api.api_id, request_id, refused)
                return http_api_error(refused.kind, request_id)

        def build(authorizer: Mapping[str, Any] | None, version: str) -> dict[str, Any]:
            if version == "2.0":
                return event_v2(
                    request,
                    route_key=route.route_key,
                    stage=stage.name,
                    api_id=api.api_id,
                    domain_prefix=api.api_id,
                    request_id=request_id,
                    now=now,
                    path_parameters=path_parameters,
                    stage_variables=stage.stage_variables,
                    authorizer=iam_authorizer(caller) if caller is not None else authorizer,
                    account_id=self._names.account.account_id,
                )
            return event_v1(
                request,
                resource=route_path or route.route_key,
                path=request.path,
                stage=stage.name,
                stage_path=request.path,
                api_id=api.api_id,
                account_id=self._names.account.account_id,
                request_id=request_id,
                now=now,
                binary=bool(request.body) and request.text_body() is None,
                resource_id=route.route_id,
                path_parameters=path_parameters,
                stage_variables=stage.stage_variables,
                authorizer=authorizer,
                http_api=True,
                caller=caller,
            )

        authorized: Authorized | None = None
        if route.authorization_type != "NONE" and route.authorizer_id is not None:
            authorizer = next(
                (a for a in snapshot.authorizers if a.authorizer_id == route.authorizer_id), None
            )
            if authorizer is None:
                return http_api_error("refused", request_id)
            try:
                authorized = await self._authorizer.authorize(
                    route,
                    authorizer,
                    request,
                    source_arn=self._names.execute_arn(api.api_id, f"authorizers/{authorizer.authorizer_id}"),
                    route_arn=route_arn,
                    stage_variables=stage.stage_variables,
                    event=lambda: build(None, authorizer.payload_format_version or "2.0"),
                )
            except (Unauthorized, Forbidden, AuthorizerFailed) as refused:
                return http_api_error(_refusal(refused, api.api_id, request_id), request_id)
        version = integration.payload_format_version
        context = None if authorized is None else (authorized.v2 if version == "2.0" else authorized.v1)
        event = build(context, version)
        if integration.integration_type != "AWS_PROXY" or integration.integration_uri is None:
            log.warning(
                "API %s: %s integrations are not served by Lambdabox",
                api.api_id,
                integration.integration_type,
            )
            return http_api_error("refused", request_id)
        try:
            result = await self._invoke(
                with_stage_variables(integration.integration_uri, stage.stage_variables),
                source_arn,
                orjson.dumps(event),
                integration.timeout_ms / 1000,
            )
            response = response_v2(result.payload) if version == "2.0" else response_v1(result.payload)
        except _Failed as failed:
            log.warning("API %s request %s: %s", api.api_id, request_id, failed)
            return http_api_error(failed.kind, request_id)
        except MalformedResponse as malformed:
            log.warning(
                "API %s request %s: malformed Lambda proxy response: %s", api.api_id, request_id, malformed
            )
            return http_api_error("malformed", request_id)
        return HttpResponse(
            response.status, (*response.headers, ("apigw-requestid", request_id)), response.body
        )

    # -- REST APIs ------------------------------------------------------------------------------------
    async def _rest_authorize(
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

    async def _rest_api(self, api: RestApi, request: HttpRequest, signer: Signer) -> HttpResponse:
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
        if not self._stage_buckets.take(
            (api.api_id, stage.name, setting),
            settings.get("throttlingRateLimit"),
            settings.get("throttlingBurstLimit"),
        ):
            return rest_api_error("too-many-requests", request_id)
        caller: AccessKey | None = None
        api_key: ApiKey | None = None
        try:
            if method.authorization_type == "AWS_IAM":
                caller = self._iam_caller(signer, method_arn, request.source_ip, deployment.policy)
            elif deployment.policy is not None:  # anonymous callers need its allow; authorizers its no-deny
                custom = method.authorization_type == "CUSTOM"
                self._may_invoke(None, method_arn, request.source_ip, deployment.policy, deny_only=custom)
        except _IamRefused as refused:
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
                authorized, usage_key = await self._rest_authorize(
                    api, stage, deployment, method, request, method_arn, build
                )
            except (Unauthorized, Forbidden, AuthorizerFailed) as refused:
                return rest_api_error(_refusal(refused, api.api_id, request_id), request_id)
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
            headers = (*answer.headers, ("x-amzn-RequestId", request_id), ("x-amz-apigw-id", _apigw_id()))
            return HttpResponse(answer.status, headers, answer.body)
        event = build(authorized)
        source_arn = self._names.execute_arn(api.api_id, f"{stage.name}/{request.method}{resource.path}")
        try:
            result = await self._invoke(
                with_stage_variables(integration.uri or "", stage.variables),
                source_arn,
                orjson.dumps(event),
                integration.timeout_ms / 1000,
            )
            response = response_v1(result.payload)
        except _Failed as failed:
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
            ("x-amz-apigw-id", _apigw_id()),
            ("X-Amzn-Trace-Id", ids.trace_root()),
        )
        return HttpResponse(response.status, (*response.headers, *extra), response.body)


def with_stage_variables(uri: str, variables: Mapping[str, str]) -> str:
    """`${stageVariables.name}` in an integration URI (e.g. a function alias per stage) replaced by the
    stage's value (an unknown variable becomes empty, as API Gateway does)."""
    return _STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), uri) if "${" in uri else uri


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


def _refusal(error: Unauthorized | Forbidden | AuthorizerFailed, api_id: str, request_id: str) -> str:
    """The kind of answer a request its authorizer refused gets (each API type words it), logged."""
    if isinstance(error, AuthorizerFailed):
        log.warning("API %s request %s: authorizer failed: %s", api_id, request_id, error)
        return "authorizer-failed"
    log.info("API %s request %s: refused by its authorizer: %s", api_id, request_id, error)
    if isinstance(error, Unauthorized):
        return "unauthorized"
    return "explicitly-denied" if isinstance(error, ExplicitlyDenied) else "denied"


def _error_message(payload: bytes) -> Any:
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return document.get("errorMessage") if isinstance(document, dict) else None


def _canonical(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-")) if name.islower() else name


def _retrieve(task: asyncio.Future[InvocationResult]) -> None:
    """An invocation that outlived its integration timeout still finishes; its outcome is dropped."""
    if not task.cancelled():
        task.exception()
