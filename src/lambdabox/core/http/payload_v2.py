"""Payload format version 2.0: the event API Gateway HTTP APIs and Lambda function URLs send to a
function, and how the function's result becomes the HTTP response."""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from lambdabox.core.http.request import HttpRequest, HttpResponse, MalformedResponse
from lambdabox.core.identity import AccessKey

# What may go out as a header line: a name that is an HTTP token, a value without line breaks or NUL.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_UNSENDABLE = re.compile(r"[\r\n\x00]")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def request_time(now: float) -> str:
    """`requestContext.time`: `12/Mar/2020:19:03:58 +0000`."""
    t = time.gmtime(now)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def headers_v2(request: HttpRequest) -> tuple[dict[str, str], list[str]]:
    """Header names lower-cased, repeated headers comma-joined; the Cookie header becomes `cookies`."""
    headers = {name: value for name, value in request.header_values.items() if name != "cookie"}
    cookies = [
        cookie.strip()
        for name, value in request.headers
        if name.lower() == "cookie"
        for cookie in value.split(";")
        if cookie.strip()
    ]
    return headers, cookies


def query_v2(raw_query: str) -> dict[str, str]:
    """Decoded query parameters, repeated names comma-joined."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def iam_authorizer(caller: AccessKey) -> dict[str, Any]:
    """`requestContext.authorizer` of a request signed with SigV4 (AWS_IAM)."""
    return {
        "iam": {
            "accessKey": caller.access_key_id,
            "accountId": caller.account_id,
            "callerId": caller.user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": caller.principal_arn,
            "userId": caller.user_id,
        }
    }


def request_context(
    account_id: str, api_id: str, authorizer: Mapping[str, Any] | None, members: Mapping[str, Any]
) -> dict[str, Any]:
    """`requestContext` (both versions): `accountId`, `apiId`, the authorizer's output when there is one,
    then the version's own `members`, in the order API Gateway writes them."""
    context: dict[str, Any] = {"accountId": account_id, "apiId": api_id}
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    context.update(members)
    return context


def event_v2(
    request: HttpRequest,
    *,
    route_key: str,
    stage: str,
    api_id: str,
    domain_prefix: str,
    request_id: str,
    now: float,
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    authorizer: Mapping[str, Any] | None = None,
    account_id: str = "anonymous",
    path: str | None = None,
) -> dict[str, Any]:
    """The version 2.0 event. Members AWS leaves out when empty (cookies, queryStringParameters, body,
    pathParameters, stageVariables, authorizer) are left out. `account_id` is `requestContext.accountId`
    (the API owner for API Gateway, "anonymous" for a function URL without IAM auth); `path` overrides
    `requestContext.http.path` (API Gateway strips nothing, but a custom domain mapping can)."""
    headers, cookies = headers_v2(request)
    context = request_context(
        account_id,
        api_id,
        authorizer,
        {
            "domainName": request.domain_name,
            "domainPrefix": domain_prefix,
            "http": {
                "method": request.method,
                "path": request.path if path is None else path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": request.user_agent,
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": stage,
            "time": request_time(now),
            "timeEpoch": int(now * 1000),
        },
    )
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.raw_query:
        event["queryStringParameters"] = query_v2(request.raw_query)
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    text = request.text_body()
    if request.body:
        event["body"] = text if text is not None else base64.b64encode(request.body).decode()
    event["isBase64Encoded"] = bool(request.body) and text is None
    return event


def header_text(value: object, *, strict: bool = False) -> str:
    """A header value of a response object: a string, number or boolean; a list (not `strict`, 2.0) is
    its items joined by commas."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        text = str(value)
        if _UNSENDABLE.search(text):
            raise MalformedResponse(f"header value {text!r} has a line break")
        return text
    if isinstance(value, list) and not strict:
        return ",".join(header_text(v) for v in value)
    raise MalformedResponse(f"header value {value!r} is not a string")


def _status(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        status = value
    elif isinstance(value, str) and value.strip().isdigit():
        status = int(value)
    else:
        raise MalformedResponse(f"statusCode {value!r} is not an integer")
    if not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status} is out of range")
    return status


def _body(result: Mapping[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return orjson.dumps(body)
    if result.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedResponse("body is not valid base64") from None
    return body.encode("utf-8")


def header_lines(result: Mapping[str, Any], *, strict: bool) -> list[tuple[str, str]]:
    """`headers` and `multiValueHeaders` of a response object (both versions) as header lines; a name in
    both takes its `multiValueHeaders` values. `strict` (1.0): a `multiValueHeaders` value that is not a
    list is refused rather than taken as a single value, and so is a list as a value (`header_text`)."""
    single = result.get("headers")
    multi = result.get("multiValueHeaders")
    single = {} if single is None else single
    multi = {} if multi is None else multi
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers must be an object")
    for name in (*single, *multi):
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise MalformedResponse(f"{name!r} is not a header name")
    multi_names = {name.lower() for name in multi}
    lines = [
        (str(name), header_text(value, strict=strict))
        for name, value in single.items()
        if name.lower() not in multi_names
    ]
    for name, values in multi.items():
        if not isinstance(values, list):
            if strict:
                raise MalformedResponse("multiValueHeaders values must be lists")
            values = [values]
        lines.extend((str(name), header_text(value, strict=strict)) for value in values)
    return lines


def response_head(result: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]]]:
    """Status and headers (with a `set-cookie` line per cookie) of a response object; shared with the
    prelude of a streamed HTTP response."""
    status = _status(result.get("statusCode", 200))
    headers = header_lines(result, strict=False)
    cookies = result.get("cookies")
    cookies = [] if cookies is None else cookies
    if not isinstance(cookies, list):
        raise MalformedResponse("cookies must be a list")
    headers.extend(("set-cookie", header_text(c)) for c in cookies)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    return status, headers


def response_v2(payload: bytes) -> HttpResponse:
    """Map a function's result to the HTTP response. A JSON object with `statusCode` is a response
    object (statusCode, headers, multiValueHeaders, cookies, body, isBase64Encoded); a JSON string is
    the body itself; any other JSON value is the body as it is, 200 application/json.
    Raises MalformedResponse when the result is not JSON or the response object is invalid."""
    try:
        result = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        raise MalformedResponse("the function's result is not JSON") from None
    if isinstance(result, dict) and "statusCode" in result:
        status, headers = response_head(result)
        return HttpResponse(status, tuple(headers), _body(result))
    body = result.encode("utf-8") if isinstance(result, str) else payload
    return HttpResponse(200, (("content-type", "application/json"),), body)
