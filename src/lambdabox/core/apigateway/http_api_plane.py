"""The data plane of HTTP APIs (apigatewayv2): the stage and route a request is for, its throttling,
AWS_IAM and authorizers, the Lambda proxy integration (payload 1.0 or 2.0) and its answer.

Errors are answered `{"message": ...}` as API Gateway does: 404 Not Found (no stage, deployment or
route), 401/403 from authorizers, 500 Internal Server Error (function error, malformed result, missing
permission), 429 Too Many Requests (function or route throttled), 503 Service Unavailable (integration
timeout), 413 for a body over 10 MB."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson

from lambdabox.core.apigateway.access import IamRefused, Signer, refusal
from lambdabox.core.apigateway.authorizers import Authorized, AuthorizerFailed
from lambdabox.core.apigateway.cors import apply_cors, is_preflight, preflight
from lambdabox.core.apigateway.integration import (
    MAX_REQUEST_BODY,
    IntegrationFailed,
    with_stage_variables,
)
from lambdabox.core.apigateway.jwt import Forbidden, Unauthorized
from lambdabox.core.apigateway.models import Deployment, HttpApi, Route, Stage
from lambdabox.core.apigateway.names import apigw_id
from lambdabox.core.apigateway.plane import DataPlane
from lambdabox.core.apigateway.routing import DEFAULT_ROUTE, Candidate, best_match, parse_route_key
from lambdabox.core.http.payload_v1 import event_v1, response_v1
from lambdabox.core.http.payload_v2 import event_v2, iam_authorizer, response_v2
from lambdabox.core.http.request import HttpRequest, HttpResponse, MalformedResponse
from lambdabox.core.identity import AccessKey

log = logging.getLogger("lambdabox.apigateway")

_ERRORS = {
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


def http_api_error(kind: str, request_id: str) -> HttpResponse:
    status, message = _ERRORS[kind]
    headers: list[tuple[str, str]] = [("content-type", "application/json"), ("apigw-requestid", request_id)]
    if kind == "unauthorized":
        headers.append(
            (
                "www-authenticate",
                'Bearer scope="" error="invalid_token" error_description="the token is not valid"',
            )
        )
    return HttpResponse(status, tuple(headers), orjson.dumps({"message": message}))


@dataclass(frozen=True)
class _Target:
    stage: Stage
    route_path: str  # the path below the stage


class HttpApiPlane(DataPlane):
    async def serve(self, api: HttpApi, request: HttpRequest, signer: Signer) -> HttpResponse:
        request_id = apigw_id()
        if api.disable_execute_api_endpoint:
            return http_api_error("forbidden", request_id)
        if api.cors is not None and is_preflight(request):
            return preflight(api.cors, request, request_id)
        response = await self._route(api, request, request_id, signer)
        return apply_cors(api.cors, request, response) if api.cors is not None else response

    def _target(self, api_id: str, raw_path: str) -> _Target | None:
        stages = {stage.name: stage for stage in self._store.list(Stage, api_id)}
        first, _, rest = raw_path[1:].partition("/")
        named = stages.get(unquote(first))
        if named is not None and named.name != "$default":
            return _Target(named, "/" + rest)
        default = stages.get("$default")
        return _Target(default, raw_path) if default is not None else None

    async def _route(
        self, api: HttpApi, request: HttpRequest, request_id: str, signer: Signer
    ) -> HttpResponse:
        if len(request.body) > MAX_REQUEST_BODY:
            return http_api_error("too-large", request_id)
        target = self._target(api.api_id, request.raw_path)
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
        if not self._buckets.take(
            (api.api_id, stage.name, route.route_key),
            route_settings.get("ThrottlingRateLimit"),
            route_settings.get("ThrottlingBurstLimit"),
        ):
            return http_api_error("throttled", request_id)
        caller: AccessKey | None = None
        if route.authorization_type == "AWS_IAM":
            try:
                caller = self._access.caller(signer, route_arn, request.source_ip)
            except IamRefused as refused:
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
                return http_api_error(refusal(refused, api.api_id, request_id), request_id)
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
            result = await self._integration.invoke(
                with_stage_variables(integration.integration_uri, stage.stage_variables),
                source_arn,
                orjson.dumps(event),
                integration.timeout_ms / 1000,
            )
            response = response_v2(result.payload) if version == "2.0" else response_v1(result.payload)
        except IntegrationFailed as failed:
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
