"""The ``context`` object passed to handlers (awslambdaric's ``LambdaContext``, attribute for attribute)."""

from __future__ import annotations

import logging
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    _T = TypeVar("_T")

# Fields of ``clientContext.w3c`` surfaced by ``LambdaContext.w3c()``; non-string values are dropped.
W3C_ALLOWED_FIELDS = ("traceparent", "tracestate", "baggage")


def environ_reader(*names: str) -> Callable[[], list[str | None]]:
    """A function giving ``[os.environ.get(name) for name in names]`` as they are now, for reads made at
    every invocation: CPython's ``os.environ`` keeps its items encoded in ``_data``, and going through its
    ``Mapping`` methods costs several times more (two raised KeyErrors for an unset name). Falls back to
    ``os.environ.get`` where ``os.environ`` is not that object (another Python, or replaced by code)."""
    environ = os.environ
    data: dict[Any, Any] | None = getattr(environ, "_data", None)
    encode = getattr(environ, "encodekey", None)
    decode = getattr(environ, "decodevalue", None)
    if data is None or encode is None or decode is None:
        return lambda: [os.environ.get(name) for name in names]
    keys = tuple(encode(name) for name in names)

    def read() -> list[str | None]:
        if os.environ is not environ:
            return [os.environ.get(name) for name in names]
        return [None if value is None else decode(value) for value in map(data.get, keys)]

    return read


_context_environ = environ_reader(
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
)


class LambdaContext:
    """Per-invocation metadata; the values match AWS's Python runtime exactly."""

    def __init__(
        self,
        invoke_id: str,
        client_context: Any,
        cognito_identity: Any,
        epoch_deadline_time_in_ms: int,
        invoked_function_arn: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self.aws_request_id = invoke_id
        (
            self.log_group_name,
            self.log_stream_name,
            self.function_name,
            self.memory_limit_in_mb,
            self.function_version,
        ) = _context_environ()
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self._w3c_fields = self._extract_and_strip_w3c(client_context) if client_context is not None else {}

        self.client_context = make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = make_obj_from_dict(Client, self.client_context.client)

        self.identity = identity = CognitoIdentity()
        set_obj_from_dict(identity, {})
        if cognito_identity is not None:
            identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self) -> int:
        delta_ms: int = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def w3c(self) -> dict[str, str]:
        """The W3C trace context (traceparent/tracestate/baggage) sent in the client context."""
        return dict(self._w3c_fields)

    @staticmethod
    def _extract_and_strip_w3c(client_context: Any) -> dict[str, str]:
        """Pop ``w3c`` out of the client context dict; keep its allow-listed string fields."""
        if not isinstance(client_context, dict) or "w3c" not in client_context:
            return {}
        raw_w3c = client_context.pop("w3c")
        if not isinstance(raw_w3c, dict):
            return {}
        fields = {}
        for key in W3C_ALLOWED_FIELDS:
            value = raw_w3c.get(key)
            if isinstance(value, str):
                fields[key] = value
        return fields

    def log(self, msg: object) -> None:
        """Write ``str(msg)`` to the runtime's log sink (stdout when none is installed)."""
        for handler in logging.getLogger().handlers:
            if hasattr(handler, "log_sink"):
                handler.log_sink.log(str(msg))
                return
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    cognito_identity_id: Any
    cognito_identity_pool_id: Any

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(["
            f"cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}"
            "])"
        )


class Client:
    __slots__ = [  # noqa: RUF023 (awslambdaric's order)
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    installation_id: Any
    app_title: Any
    app_version_name: Any
    app_version_code: Any
    app_package_name: Any

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(["
            f"installation_id={self.installation_id},"
            f"app_title={self.app_title},"
            f"app_version_name={self.app_version_name},"
            f"app_version_code={self.app_version_code},"
            f"app_package_name={self.app_package_name}"
            "])"
        )


class ClientContext:
    __slots__ = ["custom", "env", "client"]  # noqa: RUF023 (awslambdaric's order)

    custom: Any
    env: Any
    client: Any

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}([custom={self.custom},env={self.env},client={self.client}])"


def make_obj_from_dict(_class: type[_T], _dict: Any, fields: list[str] | None = None) -> _T | None:
    """An instance of a ``__slots__`` class with every slot set from ``_dict`` (``None`` if absent)."""
    if _dict is None:
        return None
    obj = _class()
    set_obj_from_dict(obj, _dict)
    return obj


def set_obj_from_dict(obj: object, _dict: Any, fields: list[str] | None = None) -> None:
    if fields is None:
        fields = obj.__class__.__slots__  # type: ignore[attr-defined]
    for field in fields:
        setattr(obj, field, _dict.get(field, None))
