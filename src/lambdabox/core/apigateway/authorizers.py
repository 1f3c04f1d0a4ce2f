"""Authorizing a request for an HTTP API route: JWT authorizers and Lambda (REQUEST) authorizers.

A Lambda authorizer gets the version 1.0 or 2.0 authorizer event and answers either a simple response
(`{"isAuthorized": bool, "context": {...}}`, with EnableSimpleResponses) or an IAM policy
(`{"principalId", "policyDocument", "context"}`) that must allow `execute-api:Invoke` on the route ARN.
Results are cached per identity for AuthorizerResultTtlInSeconds."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from lambdabox.core.apigateway.jwt import Forbidden, JwtValidator, Unauthorized, bearer
from lambdabox.core.apigateway.models import Authorizer, Route
from lambdabox.core.http.request import HttpRequest
from lambdabox.core.iam.policy import document_allows


class AuthorizerFailed(Exception):
    """500: the authorizer could not be run or answered nonsense."""


@dataclass(frozen=True)
class Authorized:
    """What goes into `requestContext.authorizer` of the integration's event (per payload format)."""

    v2: dict[str, Any]
    v1: dict[str, Any]


Invoke = Callable[[str, str, bytes], Awaitable[bytes]]  # (function ARN, source ARN, event) -> result payload


def identity_values(
    authorizer: Authorizer,
    request: HttpRequest,
    stage_variables: Mapping[str, str],
    context: Mapping[str, Any],
) -> list[str] | None:
    """The values of the authorizer's identity sources; None when one is missing."""
    values: list[str] = []
    query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
    for source in authorizer.identity_source:
        value: Any = None
        if source.startswith("$request.header."):
            value = request.header(source[len("$request.header.") :])
        elif source.startswith("$request.querystring."):
            value = query.get(source[len("$request.querystring.") :])
        elif source.startswith("$stageVariables."):
            value = stage_variables.get(source[len("$stageVariables.") :])
        elif source.startswith("$context."):
            value = context.get(source[len("$context.") :])
        if value is None or value == "":
            return None
        values.append(str(value))
    return values


def policy_allows(policy: Any, route_arn: str) -> bool:
    """Does an authorizer's IAM policy allow `execute-api:Invoke` on `route_arn` (an explicit Deny wins)?
    Evaluated by the IAM policy engine: wildcards, NotAction / NotResource, conditions."""
    return isinstance(policy, dict) and document_allows(policy, "execute-api:Invoke", route_arn)


class RouteAuthorizer:
    def __init__(self, jwt: JwtValidator, invoke: Invoke, now: Callable[[], float] = time.monotonic) -> None:
        self._jwt = jwt
        self._invoke = invoke
        self._now = now
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, Authorized]] = {}

    async def authorize(
        self,
        route: Route,
        authorizer: Authorizer,
        request: HttpRequest,
        *,
        source_arn: str,
        route_arn: str,
        stage_variables: Mapping[str, str],
        event: Callable[[], dict[str, Any]],
    ) -> Authorized:
        """Raises Unauthorized (401), Forbidden (403) or AuthorizerFailed (500). `event` builds the
        integration-style event the Lambda authorizer's event is derived from."""
        if authorizer.authorizer_type == "JWT":
            values = identity_values(authorizer, request, stage_variables, {})
            result = await self._jwt.validate(
                bearer(values[0]) if values else None,
                authorizer.jwt_issuer or "",
                authorizer.jwt_audience,
                route.authorization_scopes,
            )
            jwt_context = {"claims": result.claims, "scopes": result.scopes}
            return Authorized({"jwt": jwt_context}, dict(jwt_context))
        base = event()
        values = identity_values(authorizer, request, stage_variables, base.get("requestContext", {}))
        if values is None:
            if authorizer.identity_source:
                raise Unauthorized("an identity source is missing")
            values = []
        key = (authorizer.authorizer_id, tuple(values))
        if authorizer.result_ttl > 0:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > self._now():
                return cached[1]
        if authorizer.payload_format_version == "2.0":
            payload = {
                "version": "2.0",
                "type": "REQUEST",
                "routeArn": route_arn,
                "identitySource": values or None,
                **{k: v for k, v in base.items() if k not in ("version", "body", "isBase64Encoded")},
            }
        else:
            payload = {
                "version": "1.0",
                "type": "REQUEST",
                "methodArn": route_arn,
                "identitySource": ",".join(values) if values else None,
                "authorizationToken": values[0] if values else None,
                **{k: v for k, v in base.items() if k not in ("version", "body", "isBase64Encoded")},
            }
        output = await self._invoke(authorizer.authorizer_uri or "", source_arn, orjson.dumps(payload))
        try:
            answer = orjson.loads(output)
        except orjson.JSONDecodeError:
            raise AuthorizerFailed("the authorizer's result is not JSON") from None
        if not isinstance(answer, dict):
            raise AuthorizerFailed("the authorizer's result is not a JSON object")
        context = answer.get("context")
        context = dict(context) if isinstance(context, dict) else {}
        if authorizer.enable_simple_responses:
            if not isinstance(answer.get("isAuthorized"), bool):
                raise AuthorizerFailed("the authorizer's simple response has no boolean isAuthorized")
            allowed = answer["isAuthorized"]
        else:
            allowed = policy_allows(answer.get("policyDocument"), route_arn)
        if not allowed:
            raise Forbidden("the authorizer denied the request")
        v1_context = dict(context)
        if "principalId" in answer:
            v1_context["principalId"] = answer["principalId"]
        v2_context: dict[str, Any] = {"lambda": context}
        if "principalId" in answer:
            v2_context["principalId"] = answer["principalId"]
        authorized = Authorized(v2_context, v1_context)
        if authorizer.result_ttl > 0:
            self._cache[key] = (self._now() + authorizer.result_ttl, authorized)
        return authorized
