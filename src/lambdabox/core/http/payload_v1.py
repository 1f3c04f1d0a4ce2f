"""Payload format version 1.0: the event API Gateway REST APIs (Lambda proxy integrations) and HTTP APIs
with PayloadFormatVersion 1.0 send, and how the function's result becomes the HTTP response."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from lambdabox.core.http.payload_v2 import header_lines, request_context, request_time
from lambdabox.core.http.request import HttpRequest, HttpResponse, MalformedResponse
from lambdabox.core.identity import AccessKey


def identity(
    request: HttpRequest, caller: AccessKey | None = None, api_key: tuple[str, str] | None = None
) -> dict[str, Any]:
    """`requestContext.identity`: who signed the request (AWS_IAM), if anybody did, and the API key (id,
    value) it presented to a method that requires one."""
    extra = {} if api_key is None else {"apiKey": api_key[1], "apiKeyId": api_key[0]}
    return {
        **extra,
        "accessKey": caller.access_key_id if caller is not None else None,
        "accountId": caller.account_id if caller is not None else None,
        "caller": caller.user_id if caller is not None else None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": request.source_ip,
        "user": caller.user_id if caller is not None else None,
        "userAgent": request.user_agent,
        "userArn": caller.principal_arn if caller is not None else None,
    }


def headers_v1(
    request: HttpRequest, lower: bool
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """`headers` (the last value of each name) and `multiValueHeaders` (every value, in order); names as
    sent (REST APIs) or lower-cased (HTTP APIs)."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        key = name.lower() if lower else name
        single[key] = value
        multi.setdefault(key, []).append(value)
    return (single or None), (multi or None)


def query_v1(raw_query: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        single[key] = value
        multi.setdefault(key, []).append(value)
    return (single or None), (multi or None)


def event_v1(
    request: HttpRequest,
    *,
    resource: str,
    path: str,
    stage: str,
    stage_path: str,
    api_id: str,
    account_id: str,
    request_id: str,
    now: float,
    binary: bool,
    resource_id: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    authorizer: Mapping[str, Any] | None = None,
    http_api: bool = False,
    caller: AccessKey | None = None,
    api_key: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The version 1.0 event. `path` is the path without the stage (REST APIs) and `stage_path` the path
    as requested (`requestContext.path`); `binary`: the body reaches the function base64-encoded.
    `http_api`: sent by an HTTP API (adds `version`, lower-cases header names, as API Gateway does).
    `caller`: the signer of an AWS_IAM request, `api_key`: the (id, value) of the API key a method required
    (both in `requestContext.identity`)."""
    headers, multi_headers = headers_v1(request, lower=http_api)
    query, multi_query = query_v1(request.raw_query)
    context = request_context(
        account_id,
        api_id,
        authorizer,
        {
            "domainName": request.domain_name,
            "domainPrefix": api_id,
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": identity(request, caller, api_key),
            "path": stage_path,
            "protocol": request.protocol,
            "requestId": request_id,
            "requestTime": request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": resource_id,
            "resourcePath": resource,
            "stage": stage,
        },
    )
    event: dict[str, Any] = {}
    if http_api:
        event["version"] = "1.0"
    event.update(
        {
            "resource": resource,
            "path": path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "requestContext": context,
            "pathParameters": dict(path_parameters) if path_parameters else None,
            "stageVariables": dict(stage_variables) if stage_variables else None,
        }
    )
    if not request.body:
        event["body"] = None
    elif binary:
        event["body"] = base64.b64encode(request.body).decode()
    else:
        event["body"] = request.body.decode("utf-8", errors="replace")
    event["isBase64Encoded"] = bool(request.body) and binary
    return event


def response_v1(payload: bytes) -> HttpResponse:
    """Map a Lambda proxy response (`statusCode`, `headers`, `multiValueHeaders`, `body`,
    `isBase64Encoded`) to the HTTP response. Raises MalformedResponse for anything else: a result that
    is not a JSON object, a missing or invalid statusCode, a body that is not a string."""
    try:
        result = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        raise MalformedResponse("the function's result is not JSON") from None
    if not isinstance(result, dict):
        raise MalformedResponse("the function's result is not a JSON object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r} is missing or invalid")
    headers = header_lines(result, strict=True)
    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    elif result.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedResponse("body is not valid base64") from None
    else:
        data = body.encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return HttpResponse(status, tuple(headers), data)
