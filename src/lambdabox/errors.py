"""AWS-shaped errors raised by the core and the API layer, serialized by each service's protocol."""

from __future__ import annotations

from collections.abc import Mapping


class AwsError(Exception):
    """An error that crosses the wire as `code` with HTTP `status`.

    `fields` are extra members of the error shape (e.g. `Reason` of TooManyRequestsException);
    `headers` are extra response headers (e.g. `Retry-After`).
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        fields: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})

    @property
    def sender_fault(self) -> bool:
        return self.status < 500

    def __repr__(self) -> str:
        return f"AwsError({self.code!r}, {self.message!r}, {self.status})"


def not_implemented(service: str, operation: str, code: str = "NotImplementedException") -> AwsError:
    """An operation of the service's model that Lambdabox does not serve (the query and XML protocols'
    code is `NotImplemented`)."""
    return AwsError(code, f"The {service} operation {operation} is not implemented by Lambdabox yet.", 501)


def validation_error(problems: list[str]) -> AwsError:
    """The framework-level ValidationException AWS answers for constraint violations."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return AwsError("ValidationException", f"{count} validation {noun} detected: " + "; ".join(problems))
