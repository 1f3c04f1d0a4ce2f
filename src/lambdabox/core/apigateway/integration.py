"""An API's Lambda integration: invoking the function a route, method or authorizer names, synchronously,
as API Gateway's service principal (the function's resource policy must allow it for the request's
execute-api ARN), within the integration's timeout."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import orjson

from lambdabox.core.apigateway.authorizers import AuthorizerFailed
from lambdabox.core.apigateway.jwt import Unauthorized
from lambdabox.core.apigateway.names import GatewayNames, lambda_arn_of
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.invoke import InvokeService
from lambdabox.core.models import InvocationResult
from lambdabox.core.names import parse_function_ref
from lambdabox.core.resource_policy import invocation_allowed
from lambdabox.errors import AwsError

PRINCIPAL = "apigateway.amazonaws.com"
MAX_REQUEST_BODY = 10 * 1024 * 1024  # API Gateway's payload limit, both API types
AUTHORIZER_TIMEOUT_S = 10.0
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


class IntegrationFailed(Exception):
    """The integration could not produce a response; `kind` picks the status each API type answers."""

    def __init__(self, kind: str, reason: str, payload: bytes = b"") -> None:
        super().__init__(reason)
        self.kind = kind  # "refused" | "throttled" | "timeout" | "function" | "too-large"
        self.payload = payload  # the function's error document ("function")


class LambdaIntegration:
    def __init__(self, names: GatewayNames, invoker: InvokeService, settings: FunctionSettings) -> None:
        self._names = names
        self._invoker = invoker
        self._settings = settings

    async def invoke(
        self, function_uri: str, source_arn: str, payload: bytes, timeout: float
    ) -> InvocationResult:
        """The function's result; raises IntegrationFailed (a function error included)."""
        function_arn = lambda_arn_of(function_uri)
        if function_arn is None:
            raise IntegrationFailed("refused", f"{function_uri} is not a Lambda function")
        try:
            ref = parse_function_ref(self._names.account, function_arn)
        except AwsError as error:
            raise IntegrationFailed("refused", error.message) from None
        if not invocation_allowed(self._settings, self._names.account, ref, PRINCIPAL, source_arn):
            raise IntegrationFailed(
                "refused",
                f"Execution failed due to configuration error: Invalid permissions on Lambda function "
                f"{function_arn} (no statement allows {PRINCIPAL} for {source_arn})",
            )
        task = asyncio.ensure_future(self._invoker.invoke(ref, payload))
        task.add_done_callback(_retrieve)
        try:
            result = await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            raise IntegrationFailed(
                "timeout", f"the integration did not answer within {timeout:g} s"
            ) from None
        except AwsError as error:
            if error.code == "TooManyRequestsException":
                raise IntegrationFailed("throttled", error.message) from None
            if error.code == "RequestEntityTooLargeException":
                raise IntegrationFailed("too-large", error.message) from None
            raise IntegrationFailed("refused", f"{error.code}: {error.message}") from None
        if result.function_error is not None:
            raise IntegrationFailed(
                "function", f"the function failed: {result.payload[:500]!r}", result.payload
            )
        return result

    async def invoke_authorizer(self, function_uri: str, source_arn: str, payload: bytes) -> bytes:
        """For Lambda authorizers: a function that fails with the message "Unauthorized" refuses the
        request (401); any other failure is the authorizer's (500)."""
        try:
            return (await self.invoke(function_uri, source_arn, payload, AUTHORIZER_TIMEOUT_S)).payload
        except IntegrationFailed as failed:
            if failed.kind == "function" and _error_message(failed.payload) == "Unauthorized":
                raise Unauthorized("the authorizer answered Unauthorized") from None
            raise AuthorizerFailed(str(failed)) from None


def with_stage_variables(uri: str, variables: Mapping[str, str]) -> str:
    """`${stageVariables.name}` in an integration URI (e.g. a function alias per stage) replaced by the
    stage's value (an unknown variable becomes empty, as API Gateway does)."""
    return _STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), uri) if "${" in uri else uri


def _error_message(payload: bytes) -> Any:
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return document.get("errorMessage") if isinstance(document, dict) else None


def _retrieve(task: asyncio.Future[InvocationResult]) -> None:
    """An invocation that outlived its integration timeout still finishes; its outcome is dropped."""
    if not task.cancelled():
        task.exception()
