"""Server side of botocore's `query` protocol (IAM, STS), driven entirely by the botocore service model.

A request is a form (`POST` body, `application/x-www-form-urlencoded`, or the query string of a `GET`)
whose `Action` names the operation and `Version` the API version; input members are flattened into
dotted names: structures `A.B`, lists `A.member.N` (flattened lists `A.N`), maps `A.entry.N.key/value`,
booleans `true`/`false`, timestamps ISO 8601. Outputs are XML documents
`<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata><RequestId>…` (the wrapper from the model's
`resultWrapper`, the namespace from its `xmlNamespace`, members written as S3's rest-xml writes them);
errors are `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
<RequestId>…</RequestId></ErrorResponse>` with the status the model gives the error code.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from lambdabox.aws.rest_xml import XML_DECLARATION, structure_xml
from lambdabox.aws.validation import lower_camel, validate_input
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core import ids
from lambdabox.errors import AwsError, not_implemented

log = logging.getLogger("lambdabox.query")
T = TypeVar("T")

# How the JSON-family refusals of api/edge.py (aws/json_auth.py) are named by the query services.
_AUTH_CODES = {
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "UnrecognizedClientException": "InvalidClientTokenId",
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "IncompleteSignatureException": "IncompleteSignature",
    "ExpiredTokenException": "ExpiredToken",
}
_AUTH_MESSAGES = {"MissingAuthenticationToken": "Request is missing Authentication Token"}


class QueryProtocol:
    """Everything about the query wire format of one service."""

    def __init__(self, model: ServiceModel, *, validation_code: str = "ValidationError") -> None:
        self.model = model
        self.namespace: str = model.metadata["xmlNamespace"]
        self.version: str = model.metadata["apiVersion"]
        self._validation_code = validation_code
        self._operations = frozenset(model.operation_names)
        self._statuses: dict[str, int] = {}
        for shape in model.error_shapes:
            error = shape.metadata.get("error", {})
            self._statuses[error.get("code", shape.name)] = int(error.get("httpStatusCode", 400))

    # -- input ---------------------------------------------------------------------------------------
    @staticmethod
    def form(request: WireRequest) -> dict[str, str]:
        """The request's parameters: the query string, then (for a form POST) the body's."""
        fields = dict(request.query())
        content_type = (request.header("content-type") or "").lower()
        if request.method == "POST" and (not content_type or "x-www-form-urlencoded" in content_type):
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise AwsError("MalformedQueryString", "The request body is not UTF-8.") from None
            fields.update(parse_qsl(text, keep_blank_values=True))
        return fields

    def operation(self, fields: Mapping[str, str]) -> OperationModel:
        action = fields.get("Action")
        if not action:
            raise AwsError("MissingAction", "Missing Action")
        if action not in self._operations:
            raise AwsError("InvalidAction", f"Could not find operation {action} for version {self.version}")
        return self.model.operation_model(action)

    def parse(self, operation: OperationModel, fields: Mapping[str, str]) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        params = _read_structure(shape, fields, "")
        return params or {}

    def validate(self, operation: OperationModel, params: dict[str, Any]) -> None:
        validate_input(operation, params, self._validation_code)

    # -- output --------------------------------------------------------------------------------------
    def serialize(
        self, operation: OperationModel, output: Mapping[str, Any] | None, request_id: str
    ) -> bytes:
        name = operation.name
        result = ""
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
            result = f"<{wrapper}>{structure_xml(shape, output or {})}</{wrapper}>"
        return (
            f'{XML_DECLARATION}<{name}Response xmlns="{self.namespace}">{result}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>"
        ).encode()

    def status_of(self, error: AwsError) -> int:
        return self._statuses.get(error.code, error.status)

    def serialize_error(self, error: AwsError, request_id: str) -> WireResponse:
        status = self.status_of(error)
        kind = "Sender" if status < 500 else "Receiver"
        extra = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in error.fields.items())
        body = (
            f'{XML_DECLARATION}<ErrorResponse xmlns="{self.namespace}"><Error><Type>{kind}</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>{extra}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id, **error.headers}
        return WireResponse(status, headers, body)

    def refuse(self, error: AwsError) -> WireResponse:
        """A request the edge refused before it reached the service (SigV4), as the query services word it:
        403 `InvalidClientTokenId`, `SignatureDoesNotMatch`, `ExpiredToken`, `MissingAuthenticationToken`."""
        code = _AUTH_CODES.get(error.code, error.code)
        message = _AUTH_MESSAGES.get(code, error.message)
        status = 400 if code == "IncompleteSignature" else 403
        return self.serialize_error(AwsError(code, message, status), ids.request_id())

    def answer(
        self,
        request: WireRequest,
        handlers: Mapping[str, Callable[[T, dict[str, Any]], Mapping[str, Any] | None]],
        context: T,
        *,
        service: str,
        before: Callable[[OperationModel, dict[str, Any]], None] | None = None,
    ) -> WireResponse:
        """One request, start to end: operation, input checks, handler, output or AWS-shaped error."""
        request_id = ids.request_id()
        try:
            fields = self.form(request)
            operation = self.operation(fields)
            handler = handlers.get(operation.name)
            if handler is None:
                raise not_implemented(service, operation.name, "NotImplemented")
            params = self.parse(operation, fields)
            self.validate(operation, params)
            if before is not None:
                before(operation, params)
            output = handler(context, params)
            return WireResponse(
                200,
                {"Content-Type": "text/xml", "x-amzn-RequestId": request_id},
                self.serialize(operation, output, request_id),
            )
        except AwsError as error:
            return self.serialize_error(error, request_id)
        except Exception:
            log.exception("%s request %s failed", service, request_id)
            failure = AwsError("ServiceFailure", "An internal error occurred. The request was logged.", 500)
            return self.serialize_error(failure, request_id)


# -- reading the flattened form ------------------------------------------------------------------------
def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _has_prefix(fields: Mapping[str, str], prefix: str) -> bool:
    start = prefix + "."
    return prefix in fields or any(key.startswith(start) for key in fields)


def _read(shape: Shape, fields: Mapping[str, str], key: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(shape, fields, key)
    if kind == "list":
        return _read_list(shape, fields, key)
    if kind == "map":
        return _read_map(shape, fields, key)
    if key not in fields:
        return None
    return _scalar(shape, fields[key], key)


def _read_structure(shape: Shape, fields: Mapping[str, str], prefix: str) -> dict[str, Any] | None:
    assert isinstance(shape, StructureShape)
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        value = _read(member, fields, _join(prefix, wire))
        if value is not None:
            out[name] = value
    if not out and prefix and not _has_prefix(fields, prefix):
        return None
    return out


def _read_list(shape: Shape, fields: Mapping[str, str], key: str) -> list[Any] | None:
    if key in fields and fields[key] == "":
        return []  # botocore sends an empty list as `Name=`
    if shape.serialization.get("flattened"):
        item_name = shape.member.serialization.get("name")
        base = ".".join([*key.split(".")[:-1], item_name]) if item_name else key
    else:
        base = f"{key}.{shape.member.serialization.get('name', 'member')}"
    items: list[Any] = []
    index = 1
    while _has_prefix(fields, f"{base}.{index}"):
        items.append(_read(shape.member, fields, f"{base}.{index}"))
        index += 1
    return items if items else None


def _read_map(shape: Shape, fields: Mapping[str, str], key: str) -> dict[str, Any] | None:
    base = key if shape.serialization.get("flattened") else f"{key}.entry"
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    out: dict[str, Any] = {}
    index = 1
    while _has_prefix(fields, f"{base}.{index}"):
        entry_key = fields.get(f"{base}.{index}.{key_name}")
        if entry_key is not None:
            out[entry_key] = _read(shape.value, fields, f"{base}.{index}.{value_name}")
        index += 1
    return out if out else None


def _scalar(shape: Shape, text: str, key: str) -> Any:
    kind = shape.type_name
    where = ".".join(lower_camel(part) for part in key.split("."))
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise _malformed(text, where, "Member must be a number") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise _malformed(text, where, "Member must be a number") from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise _malformed(text, where, "Member must be a boolean")
        return text.lower() == "true"
    if kind == "timestamp":
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _malformed(text, where, "Member must be an ISO 8601 timestamp") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            raise _malformed(text, where, "Member must be base64") from None
    return text


def _malformed(text: str, where: str, rule: str) -> AwsError:
    return AwsError(
        "ValidationError",
        f"1 validation error detected: Value '{text}' at '{where}' failed to satisfy constraint: {rule}",
    )
