"""Server side of botocore's `json` protocol, driven entirely by the botocore service model.

Every request is a `POST /` whose `X-Amz-Target: <targetPrefix>.<Operation>` names the operation and whose
JSON body is the operation's input structure (blobs base64, timestamps epoch seconds). Outputs are the
output structure as JSON; errors are `{"__type": code, "message": ...}` with the error's HTTP status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import orjson
from botocore.model import OperationModel, ServiceModel, Shape

from lambdabox.aws.json_values import decode_value, encode_value, parse_json
from lambdabox.aws.validation import validate_input
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core import ids
from lambdabox.errors import AwsError, not_implemented

log = logging.getLogger("lambdabox.json")
T = TypeVar("T")


class JsonProtocol:
    """Everything about the json wire format of one service."""

    def __init__(self, model: ServiceModel, *, validation_code: str = "ValidationException") -> None:
        self.model = model
        self.target_prefix: str = model.metadata["targetPrefix"]
        self.content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
        # Some services (CloudWatch Logs) answer constraint violations with their own error code.
        self._validation_code = validation_code
        self._operations = set(model.operation_names)

    # -- routing -------------------------------------------------------------------------------------
    def operation_name(self, request: WireRequest) -> str:
        """The operation named by `X-Amz-Target`; any model operation, implemented or not."""
        target = request.header("x-amz-target") or ""
        prefix, _, name = target.partition(".")
        if request.method != "POST" or prefix != self.target_prefix or name not in self._operations:
            shown = target or "(no X-Amz-Target)"
            raise AwsError("UnknownOperationException", f"The operation {shown} is not known.")
        return name

    def operation(self, request: WireRequest) -> OperationModel:
        return self.model.operation_model(self.operation_name(request))

    # -- input ---------------------------------------------------------------------------------------
    def parse(self, operation: OperationModel, request: WireRequest) -> dict[str, Any]:
        shape = operation.input_shape
        body = request.body.strip()
        if shape is None or not body:
            return {}
        document = parse_json(body)
        if not isinstance(document, dict):
            raise AwsError("SerializationException", "Start of structure or map found where not expected.")
        params = decode_value(shape, document)
        _check_types(shape, params, "")
        assert isinstance(params, dict)
        return params

    def validate(self, operation: OperationModel, params: dict[str, Any]) -> None:
        validate_input(operation, params, self._validation_code)

    # -- output --------------------------------------------------------------------------------------
    def serialize(self, operation: OperationModel, output: dict[str, Any] | None) -> WireResponse:
        response = WireResponse(status=200, headers={"Content-Type": self.content_type})
        shape = operation.output_shape
        if shape is not None:
            response.body = orjson.dumps(encode_value(shape, output or {}))
        return response

    def answer(
        self,
        request: WireRequest,
        handlers: Mapping[str, Callable[[T, dict[str, Any]], dict[str, Any] | None]],
        context: T,
        *,
        service: str,
        internal_code: str,
        before: Callable[[], None] | None = None,
        authorize: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> WireResponse:
        """One request, start to end: operation, handler, input checks, output or AWS-shaped error.
        `authorize(operation, params)` raises AccessDenied for a caller not allowed the call (IAM)."""
        request_id = ids.request_id()
        try:
            name = self.operation_name(request)
            handler = handlers.get(name)
            if handler is None:
                raise not_implemented(service, name)
            operation = self.model.operation_model(name)
            params = self.parse(operation, request)
            self.validate(operation, params)
            if authorize is not None:
                authorize(name, params)
            if before is not None:
                before()
            response = self.serialize(operation, handler(context, params))
        except AwsError as error:
            response = self.serialize_error(error)
        except Exception:
            log.exception("%s request %s failed", service, request_id)
            response = self.serialize_error(
                AwsError(internal_code, "An internal error occurred. The request was logged.", 500)
            )
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def serialize_error(self, error: AwsError) -> WireResponse:
        document: dict[str, Any] = {"__type": error.code, "message": error.message}
        document.update(error.fields)
        headers = {"Content-Type": self.content_type, **error.headers}
        return WireResponse(status=error.status, headers=headers, body=orjson.dumps(document))


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "blob": (bytes,),
    "timestamp": (datetime,),
}


def _check_types(shape: Shape, value: Any, path: str) -> None:
    """Refuse a value of the wrong JSON type before a handler sees it (as AWS's deserializer does)."""
    expected = _PYTHON_TYPES.get(shape.type_name)
    wrong_bool = isinstance(value, bool) and shape.type_name != "boolean"
    if expected is not None and (not isinstance(value, expected) or wrong_bool):
        where = path or "the request body"
        raise AwsError(
            "SerializationException", f"Unexpected value type at {where}: expected {shape.type_name}"
        )
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _check_types(member, value[name], f"{path}.{name}" if path else name)
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            _check_types(shape.member, item, f"{path}[{index}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            _check_types(shape.value, item, f"{path}.{key}")
