"""MOCK integrations of REST APIs (the usual CORS preflight `OPTIONS` method, canned answers): the status
the request template names, the integration response that status selects, its header mappings and its
template as the body. Templates are taken as written (no VTL): a request template must be plain JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

import orjson

from lambdabox.core.apigateway.models import IntegrationResponse, RestIntegration
from lambdabox.core.apigateway.rest_models import request_parameter
from lambdabox.core.http.request import HttpRequest, HttpResponse

_HEADER = "method.response.header."


class MockFailed(Exception):
    """No answer: `kind` "unsupported-media-type" (no template for the content type) or "refused" (no
    integration response for the status, or a template that is not JSON)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


def mock_answer(
    integration: RestIntegration, request: HttpRequest, path_parameters: Mapping[str, str]
) -> HttpResponse:
    content_type = (request.header("content-type") or "application/json").split(";", 1)[0].strip().lower()
    template = integration.request_templates.get(content_type)
    if (
        template is None
        and integration.request_templates
        and integration.passthrough_behavior != "WHEN_NO_MATCH"
    ):
        raise MockFailed("unsupported-media-type", f"no request template for {content_type}")
    try:
        document = orjson.loads(template) if template and template.strip() else {}
        if not isinstance(document, dict):
            raise TypeError("not an object")
        status = int(document.get("statusCode", 200))
    except (orjson.JSONDecodeError, TypeError, ValueError) as error:
        raise MockFailed(
            "refused", f"the request template is not a JSON object with a statusCode: {error}"
        ) from None
    response = _selected(integration.responses, str(status))
    if response is None:
        raise MockFailed("refused", f"no integration response for status {status}")
    query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
    headers: list[tuple[str, str]] = []
    for target, source in response.response_parameters.items():
        literal = source.startswith("'")
        value = source[1:-1] if literal else request_parameter(source, request, query, path_parameters)
        if value is not None:
            headers.append((target[len(_HEADER) :], value))
    templates = response.response_templates
    accept = (request.header("accept") or "").split(",", 1)[0].split(";", 1)[0].strip().lower()
    body_type = accept if accept in templates else "application/json"
    if body_type not in templates and templates:
        body_type = next(iter(templates))
    body = templates.get(body_type, "").encode()
    return HttpResponse(int(response.status_code), (("content-type", body_type), *headers), body)


def _selected(responses: Mapping[str, IntegrationResponse], status: str) -> IntegrationResponse | None:
    """The integration response whose selection pattern matches `status`, else the default one."""
    default = None
    for response in responses.values():
        if not response.selection_pattern:
            default = default or response
        elif re.fullmatch(response.selection_pattern, status):
            return response
    return default
