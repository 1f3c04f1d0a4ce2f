"""Authorizing a request for an HTTP API route (JWT authorizers and Lambda REQUEST authorizers) or a REST
API method (Lambda TOKEN and REQUEST authorizers).

A Lambda authorizer gets the version 1.0 or 2.0 authorizer event and answers either a simple response
(`{"isAuthorized": bool, "context": {...}}`, with EnableSimpleResponses) or an IAM policy
(`{"principalId", "policyDocument", "context"}`) that must allow `execute-api:Invoke` on the route ARN.
A REST API's Lambda authorizer gets the TOKEN event (`{"type", "methodArn", "authorizationToken"}`) or the
REQUEST one (the proxy event with `type` and `methodArn`) and answers an IAM policy; its `context` reaches
the integration as `requestContext.authorizer`. Answers are cached per identity for the authorizer's
result TTL, and every request checks the cached policy against its own ARN."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from lambdabox.core.apigateway.jwt import Forbidden, JwtValidator, Unauthorized, bearer
from lambdabox.core.apigateway.models import Authorizer, RestAuthorizer, Route
from lambdabox.core.apigateway.rest_apis import REST_SOURCES, identity_sources
from lambdabox.core.http.request import HttpRequest
from lambdabox.core.iam.policy import Decision, document_decision


class AuthorizerFailed(Exception):
    """500: the authorizer could not be run or answered nonsense."""


@dataclass(frozen=True)
class Authorized:
    """What goes into `requestContext.authorizer` of the integration's event (per payload format)."""

    v2: dict[str, Any]
    v1: dict[str, Any]


Invoke = Callable[[str, str, bytes], Awaitable[bytes]]  # (function ARN, source ARN, event) -> result payload
MAX_CACHED_ANSWERS = 10_000


# Where identity sources point, per API type: header, query string, stage variable, request context
# (REST_SOURCES: rest_apis.py, which checks them).
HTTP_SOURCES = ("$request.header.", "$request.querystring.", "$stageVariables.", "$context.")


def identity_values(
    sources: Iterable[str],
    kinds: tuple[str, str, str, str],
    request: HttpRequest,
    stage_variables: Mapping[str, str],
    context: Mapping[str, Any],
) -> list[str] | None:
    """The values of an authorizer's identity sources (`kinds`: HTTP_SOURCES or REST_SOURCES); None when
    one is missing or empty."""
    header, querystring, stage, from_context = kinds
    values: list[str] = []
    query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
    for source in sources:
        value: Any = None
        if source.startswith(header):
            value = request.header(source[len(header) :])
        elif source.startswith(querystring):
            value = query.get(source[len(querystring) :])
        elif source.startswith(stage):
            value = stage_variables.get(source[len(stage) :])
        elif source.startswith(from_context):
            value = context.get(source[len(from_context) :])
        if value is None or value == "":
            return None
        values.append(str(value))
    return values


def policy_decision(policy: Any, route_arn: str) -> Decision:
    """How an authorizer's IAM policy decides `execute-api:Invoke` on `route_arn` (an explicit Deny
    wins), by the IAM policy engine: wildcards, NotAction / NotResource, conditions."""
    if not isinstance(policy, dict):
        return Decision.IMPLICIT_DENY
    return document_decision(policy, "execute-api:Invoke", route_arn)


def policy_allows(policy: Any, route_arn: str) -> bool:
    return policy_decision(policy, route_arn) is Decision.ALLOW


def policy_denies(policy: Any, route_arn: str) -> bool:
    """Does the policy deny outright (not merely not allow)?"""
    return policy_decision(policy, route_arn) is Decision.EXPLICIT_DENY


class ExplicitlyDenied(Forbidden):
    """403: the authorizer's policy denies the method outright."""


@dataclass(frozen=True)
class _Answer:
    """What a Lambda authorizer answered, kept per identity for its result TTL: each request checks the
    policy against its own ARN (as API Gateway does with a cached policy)."""

    principal_id: Any
    policy: Any
    context: dict[str, Any]
    is_authorized: bool | None
    usage_key: str | None = None  # usageIdentifierKey: the API key of a REST API with apiKeySource AUTHORIZER


class RouteAuthorizer:
    def __init__(self, jwt: JwtValidator, invoke: Invoke, now: Callable[[], float] = time.monotonic) -> None:
        self._jwt = jwt
        self._invoke = invoke
        self._now = now
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, _Answer]] = {}

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
        """An HTTP API route's authorizer. Raises Unauthorized (401), Forbidden (403) or AuthorizerFailed
        (500). `event` builds the integration-style event the Lambda authorizer's event is derived from."""
        if authorizer.authorizer_type == "JWT":
            values = identity_values(authorizer.identity_source, HTTP_SOURCES, request, stage_variables, {})
            result = await self._jwt.validate(
                bearer(values[0]) if values else None,
                authorizer.jwt_issuer or "",
                authorizer.jwt_audience,
                route.authorization_scopes,
            )
            jwt_context = {"claims": result.claims, "scopes": result.scopes}
            return Authorized({"jwt": jwt_context}, dict(jwt_context))
        base = event()
        values = identity_values(
            authorizer.identity_source, HTTP_SOURCES, request, stage_variables, base.get("requestContext", {})
        )
        if values is None:
            if authorizer.identity_source:
                raise Unauthorized("an identity source is missing")
            values = []
        rest = {k: v for k, v in base.items() if k not in ("version", "body", "isBase64Encoded")}
        if authorizer.payload_format_version == "2.0":
            payload = {
                "version": "2.0",
                "type": "REQUEST",
                "routeArn": route_arn,
                "identitySource": values or None,
                **rest,
            }
        else:
            payload = {
                "version": "1.0",
                "type": "REQUEST",
                "methodArn": route_arn,
                "identitySource": ",".join(values) if values else None,
                "authorizationToken": values[0] if values else None,
                **rest,
            }
        answer = await self._ask(
            (authorizer.authorizer_id, tuple(values)),
            authorizer.result_ttl,
            authorizer.authorizer_uri or "",
            source_arn,
            payload,
            simple=authorizer.enable_simple_responses,
        )
        if authorizer.enable_simple_responses:
            allowed = bool(answer.is_authorized)
        else:
            allowed = policy_allows(answer.policy, route_arn)
        if not allowed:
            raise Forbidden("the authorizer denied the request")
        v1_context = dict(answer.context)
        v2_context: dict[str, Any] = {"lambda": answer.context}
        if answer.principal_id is not None:
            v1_context["principalId"] = v2_context["principalId"] = answer.principal_id
        return Authorized(v2_context, v1_context)

    async def authorize_rest(
        self,
        authorizer: RestAuthorizer,
        request: HttpRequest,
        *,
        source_arn: str,
        method_arn: str,
        stage_variables: Mapping[str, str],
        event: Callable[[], dict[str, Any]],
    ) -> tuple[dict[str, Any], str | None]:
        """A REST API method's Lambda authorizer: `requestContext.authorizer` of the integration's event,
        and the API key it named (`usageIdentifierKey`). Raises Unauthorized (401), Forbidden or
        ExplicitlyDenied (403), AuthorizerFailed (500)."""
        base = event()
        sources = identity_sources(authorizer.identity_source)
        values = identity_values(
            sources, REST_SOURCES, request, stage_variables, base.get("requestContext", {})
        )
        if authorizer.authorizer_type == "TOKEN":
            token = values[0] if values else None
            expression = authorizer.identity_validation_expression
            if not token or (expression is not None and re.fullmatch(expression, token) is None):
                raise Unauthorized("the token is missing or does not match the validation expression")
            payload: dict[str, Any] = {"type": "TOKEN", "methodArn": method_arn, "authorizationToken": token}
            key = [token]
        else:
            if values is None and authorizer.result_ttl > 0:
                raise Unauthorized("an identity source is missing")
            rest = {k: v for k, v in base.items() if k not in ("body", "isBase64Encoded")}
            payload = {"type": "REQUEST", "methodArn": method_arn, **rest}
            key = values or []
        answer = await self._ask(
            (authorizer.authorizer_id, tuple(key)),
            authorizer.result_ttl,
            authorizer.authorizer_uri or "",
            source_arn,
            payload,
            simple=False,
        )
        decision = policy_decision(answer.policy, method_arn)
        if decision is Decision.EXPLICIT_DENY:
            raise ExplicitlyDenied("the authorizer's policy denies the method")
        if decision is not Decision.ALLOW:
            raise Forbidden("the authorizer's policy does not allow the method")
        for name, value in answer.context.items():
            if isinstance(value, dict | list) or value is None:
                raise AuthorizerFailed(f"context value {name!r} is not a string, number or boolean")
        return {"principalId": answer.principal_id, **answer.context}, answer.usage_key

    async def _ask(
        self,
        key: tuple[str, tuple[str, ...]],
        ttl: int,
        function_uri: str,
        source_arn: str,
        payload: dict[str, Any],
        *,
        simple: bool,
    ) -> _Answer:
        """The authorizer's answer for this identity: cached for `ttl` seconds, else asked anew."""
        if ttl > 0:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > self._now():
                return cached[1]
        output = await self._invoke(function_uri, source_arn, orjson.dumps(payload))
        try:
            document = orjson.loads(output)
        except orjson.JSONDecodeError:
            raise AuthorizerFailed("the authorizer's result is not JSON") from None
        if not isinstance(document, dict):
            raise AuthorizerFailed("the authorizer's result is not a JSON object")
        if simple and not isinstance(document.get("isAuthorized"), bool):
            raise AuthorizerFailed("the authorizer's simple response has no boolean isAuthorized")
        context = document.get("context")
        answer = _Answer(
            document.get("principalId"),
            document.get("policyDocument"),
            dict(context) if isinstance(context, dict) else {},
            document.get("isAuthorized") if simple else None,
            usage if isinstance(usage := document.get("usageIdentifierKey"), str) else None,
        )
        if ttl > 0:
            if len(self._cache) >= MAX_CACHED_ANSWERS:  # many identities: forget the expired, else all
                now = self._now()
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
                if len(self._cache) >= MAX_CACHED_ANSWERS:
                    self._cache.clear()
            self._cache[key] = (self._now() + ttl, answer)
        return answer
