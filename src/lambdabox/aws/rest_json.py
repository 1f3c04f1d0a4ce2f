"""Server side of the rest-json protocol, driven entirely by the botocore service model.

Routes a request to its operation by `requestUri`, turns the HTTP pieces into the operation's input
members (uri, querystring, header, payload, JSON body), checks the model's constraints, and turns an
operation's output dict (or an AwsError) back into HTTP exactly as botocore expects to parse it.
`RestJsonProtocol.answer` is the whole request loop of a rest-json front end (as `JsonProtocol.answer` is
for the json protocol).
"""

from __future__ import annotations

import base64
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from functools import partial
from typing import Any, TypeVar
from urllib.parse import unquote

import orjson
from botocore.model import OperationModel, ServiceModel, Shape

from lambdabox.aws.json_values import decode_value, encode_value, parse_json
from lambdabox.aws.validation import validate_input
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core import ids
from lambdabox.errors import AwsError, not_implemented

log = logging.getLogger("lambdabox.rest_json")
INTERNAL_MESSAGE = "An internal error occurred. The request was logged."
Output = dict[str, Any] | None
C = TypeVar("C")  # what a service's handlers take: the params, or a call record built from them
T = TypeVar("T")


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    fixed_query: tuple[tuple[str, str], ...]
    specificity: int


Member = tuple[str, str, Shape]  # (member name, name on the wire, shape)


@dataclass(frozen=True)
class _InputPlan:
    """Where an operation's input members are on the wire, read once from the model."""

    uri: tuple[Member, ...] = ()
    query: tuple[Member, ...] = ()
    header: tuple[Member, ...] = ()  # wire names lower-cased, as requests' header names are
    prefixed: tuple[tuple[str, str], ...] = ()  # (member, lower-cased header prefix): a map of headers
    payload: tuple[str, Shape] | None = None
    body: tuple[Member, ...] = ()  # members of the JSON body

    @classmethod
    def of(cls, shape: Shape | None) -> _InputPlan:
        if shape is None:
            return cls()
        where: dict[str, list[Member]] = {"uri": [], "querystring": [], "header": [], "headers": [], "": []}
        payload_name = shape.serialization.get("payload")
        payload = None
        for name, member in shape.members.items():
            location = member.serialization.get("location", "")
            wire_name = member.serialization.get("name", name)
            if not location and name == payload_name:
                payload = (name, member)
            else:  # by its location; without one (or with one of no other kind): in the JSON body
                lower = location.startswith("header")
                where.get(location, where[""]).append(
                    (name, wire_name.lower() if lower else wire_name, member)
                )
        return cls(
            tuple(where["uri"]),
            tuple(where["querystring"]),
            tuple(where["header"]),
            tuple((name, prefix) for name, prefix, _ in where["headers"]),
            payload,
            tuple(where[""]),
        )


@dataclass(frozen=True)
class _OutputPlan:
    """Where an operation's output members go on the wire, read once from the model."""

    status: str | None = None  # the member that is the HTTP status code
    header: tuple[Member, ...] = ()
    prefixed: tuple[tuple[str, str], ...] = ()  # (member, header prefix): a map of headers
    payload: tuple[str, Shape] | None = None  # the member that is the whole body
    body: tuple[Member, ...] = ()  # members of the JSON body (when there is no payload member)

    @classmethod
    def of(cls, shape: Shape) -> _OutputPlan:
        status = None
        where: dict[str, list[Member]] = {"header": [], "headers": [], "": []}
        payload_name = shape.serialization.get("payload")
        payload = None
        for name, member in shape.members.items():
            location = member.serialization.get("location", "")
            if location == "statusCode":
                status = name
            elif not location and name == payload_name:
                payload = (name, member)
            else:  # by its location; without one (or with one of no other kind): in the JSON body
                where.get(location, where[""]).append((name, member.serialization.get("name", name), member))
        return cls(
            status,
            tuple(where["header"]),
            tuple((name, prefix) for name, prefix, _ in where["headers"]),
            payload,
            tuple(where[""]),
        )


def _compile_uri(request_uri: str) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...], int]:
    path, _, query = request_uri.partition("?")
    fixed: list[tuple[str, str]] = []
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        fixed.append((key, value))
    regex = ""
    literal = 0
    for token in re.split(r"(\{[^}]+\})", path):
        if token.startswith("{"):
            name = token[1:-1]
            if name.endswith("+"):
                regex += f"(?P<{_group(name[:-1])}>.+)"
            else:
                regex += f"(?P<{_group(name)}>[^/]+)"
        else:
            regex += re.escape(token)
            literal += len(token)
    return re.compile(regex + "/?"), tuple(fixed), literal * 10 + len(fixed)


_HEX_GROUP = "_hex_"


def _group(name: str) -> str:
    """A regex group name for a URI label (labels such as `resource-arn` are not identifiers)."""
    return name if name.isidentifier() else _HEX_GROUP + name.encode().hex()


def _label(group: str) -> str:
    return bytes.fromhex(group[len(_HEX_GROUP) :]).decode() if group.startswith(_HEX_GROUP) else group


class RestJsonProtocol:
    """Everything about the rest-json wire format of one service."""

    def __init__(self, model: ServiceModel, *, validation_code: str = "ValidationException") -> None:
        self.model = model
        # API Gateway answers constraint violations with BadRequestException.
        self._validation_code = validation_code
        routes = []
        for name in model.operation_names:
            operation = model.operation_model(name)
            pattern, fixed, specificity = _compile_uri(operation.http["requestUri"])
            routes.append(Route(operation, operation.http["method"], pattern, fixed, specificity))
        self._routes = sorted(routes, key=lambda r: -r.specificity)
        self._input_plans: dict[str, _InputPlan] = {}  # operation -> where its members are on the wire
        self._output_plans: dict[str, _OutputPlan] = {}
        self._message_keys = {
            shape.name: ("Message" if "Message" in shape.members else "message")
            for shape in model.error_shapes
        }

    # -- routing -------------------------------------------------------------------------------------
    def route(self, request: WireRequest) -> tuple[OperationModel, dict[str, str]]:
        query = dict(request.query()) if request.query_string else {}
        path_known = False
        for route in self._routes:
            match = route.pattern.fullmatch(request.raw_path)
            if match is None:
                continue
            if any(query.get(k) != v for k, v in route.fixed_query):
                continue
            path_known = True
            if route.method != request.method:
                continue
            return route.operation, {_label(k): unquote(v) for k, v in match.groupdict().items()}
        if path_known:
            raise AwsError("MethodNotAllowedException", "The requested method is not allowed.", 405)
        raise AwsError(
            "UnknownOperationException", f"No operation matches {request.method} {request.raw_path}", 404
        )

    # -- input ---------------------------------------------------------------------------------------
    def parse(
        self, operation: OperationModel, request: WireRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        plan = self._input_plans.get(operation.name)
        if plan is None:
            plan = self._input_plans[operation.name] = _InputPlan.of(operation.input_shape)
        params: dict[str, Any] = {}
        for name, wire_name, member in plan.uri:
            if wire_name in path_params:
                params[name] = _from_text(member, path_params[wire_name])
        if plan.query and request.query_string:
            query_pairs = request.query()
            for name, wire_name, member in plan.query:
                if member.type_name == "list":
                    values = [v for k, v in query_pairs if k == wire_name]
                    if values:
                        params[name] = [_from_text(member.member, v) for v in values]
                else:
                    for key, value in query_pairs:
                        if key == wire_name:
                            params[name] = _from_text(member, value)
                            break
        headers = request.headers
        for name, wire_name, member in plan.header:
            header = headers.get(wire_name)
            if header is not None:
                params[name] = _from_header(member, header)
        for name, prefix in plan.prefixed:
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        if plan.payload is not None:
            name, member = plan.payload
            if member.type_name in ("blob", "string"):
                params[name] = request.body if member.type_name == "blob" else request.body.decode()
            elif request.body:
                params[name] = decode_value(member, parse_json(request.body))
        if plan.body and request.body:
            document = parse_json(request.body)
            if not isinstance(document, dict):
                raise AwsError(
                    "SerializationException", "Start of structure or map found where not expected."
                )
            for name, wire_name, member in plan.body:
                if wire_name in document and document[wire_name] is not None:
                    params[name] = decode_value(member, document[wire_name])
        return params

    def validate(self, operation: OperationModel, params: dict[str, Any]) -> None:
        validate_input(operation, params, self._validation_code)

    # -- output --------------------------------------------------------------------------------------
    def serialize(self, operation: OperationModel, output: dict[str, Any] | None) -> WireResponse:
        status = int(operation.http.get("responseCode", 200))
        response = WireResponse(status=status)
        if output is None or operation.output_shape is None:
            return response
        plan = self._output_plans.get(operation.name)
        if plan is None:
            plan = self._output_plans[operation.name] = _OutputPlan.of(operation.output_shape)
        if plan.status is not None and output.get(plan.status) is not None:
            response.status = int(output[plan.status])
        for name, wire_name, member in plan.header:
            value = output.get(name)
            if value is not None:
                response.headers[wire_name] = _to_header(member, value)
        for name, prefix in plan.prefixed:
            for key, item in (output.get(name) or {}).items():
                response.headers[prefix + key] = str(item)
        if plan.payload is not None:
            name, member = plan.payload
            value = output.get(name)
            if value is not None:
                if member.type_name == "blob":
                    response.body = value if isinstance(value, bytes) else bytes(value)
                elif member.type_name == "string":
                    response.body = value.encode()
                else:
                    response.body = orjson.dumps(encode_value(member, value))
                    response.headers["Content-Type"] = "application/json"
            return response
        body = {
            wire_name: encode_value(member, output[name])
            for name, wire_name, member in plan.body
            if output.get(name) is not None
        }
        if body or response.status != 204:
            response.body = orjson.dumps(body)
            response.headers["Content-Type"] = "application/json"
        return response

    async def answer(
        self,
        request: WireRequest,
        handlers: Mapping[str, Callable[[C], Output | Awaitable[Output]]],
        call: Callable[[dict[str, Any], WireRequest, str], C],
        *,
        service: str,
        internal_code: str,
        internal_message: str = INTERNAL_MESSAGE,
        route: Callable[[WireRequest], tuple[OperationModel, dict[str, str]]] | None = None,
        admit: Callable[[WireRequest], None] | None = None,
        authorize: Callable[[str, dict[str, Any]], None] | None = None,
        finish: Callable[[C, WireResponse], str] | None = None,
    ) -> WireResponse:
        """One request, start to end: operation, handler, input checks, output or AWS-shaped error.

        `call(params, request, request_id)` builds the handler's argument (`params_only` for handlers
        bound to their service with `with_service`); a handler may be async. The service's hooks:
        `route` replaces `self.route` (a cache); `admit(request)` authorizes before the input is read
        (API Gateway: by method and path); `authorize(operation, params)` after it is checked (IAM,
        `Authorizer.hook`); `finish(call, response)` adds what the call set besides its output and returns the request
        id to answer with. Unexpected failures are logged and answered `internal_code` with status 500."""
        request_id = ids.request_id()
        try:
            operation, path_params = self.route(request) if route is None else route(request)
            if admit is not None:
                admit(request)
            name = operation.name
            handler = handlers.get(name)
            if handler is None:
                raise not_implemented(service, name)
            params = self.parse(operation, request, path_params)
            self.validate(operation, params)
            if authorize is not None:
                authorize(name, params)
            argument = call(params, request, request_id)
            output = handler(argument)
            if inspect.isawaitable(output):
                output = await output
            response = self.serialize(operation, output)
            if finish is not None:
                request_id = finish(argument, response)
        except AwsError as error:
            response = self.serialize_error(error)
        except Exception:
            log.exception("%s request %s failed", service, request_id)
            response = self.serialize_error(AwsError(internal_code, internal_message, 500))
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def serialize_error(self, error: AwsError) -> WireResponse:
        message_key = self._message_keys.get(error.code, "message")
        document: dict[str, Any] = {}
        if error.code != "ValidationException":
            document["Type"] = "User" if error.sender_fault else "Service"
        document[message_key] = error.message
        document.update(error.fields)
        headers = {"x-amzn-ErrorType": error.code, "Content-Type": "application/json", **error.headers}
        return WireResponse(status=error.status, headers=headers, body=orjson.dumps(document))


def params_only(params: dict[str, Any], request: WireRequest, request_id: str) -> dict[str, Any]:
    """`answer`'s `call` for handlers that take only the params (see `with_service`)."""
    return params


def with_service(
    handlers: Mapping[str, Callable[[T, dict[str, Any]], Output]], service: T
) -> dict[str, Callable[[dict[str, Any]], Output]]:
    """Handlers `(service, params)` bound to their service, for `answer(..., call=params_only)`."""
    return {name: partial(handler, service) for name, handler in handlers.items()}


# -- text and header values -------------------------------------------------------------------------
def _from_text(shape: Shape, text: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        raise AwsError("SerializationException", f"Cannot convert '{text}' to {kind}") from None
    if kind == "boolean":
        return text.lower() == "true"
    return text


def _from_header(shape: Shape, text: str) -> Any:
    if shape.serialization.get("jsonvalue"):
        return orjson.loads(base64.b64decode(text))
    return _from_text(shape, text)


def _to_header(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        stamp = value.timestamp() if isinstance(value, datetime) else float(value)
        return formatdate(stamp, usegmt=True)
    return str(value)
