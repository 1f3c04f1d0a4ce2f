"""The `Cors` structure that Lambda function URLs and API Gateway HTTP APIs both answer with
(`AllowCredentials`, `AllowHeaders`, `AllowMethods`, `AllowOrigins`, `ExposeHeaders`, `MaxAge`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class CorsSettings(Protocol):
    """A CORS configuration of either domain (`core.function_urls.Cors`, `core.apigateway.models.Cors`)."""

    @property
    def allow_credentials(self) -> bool | None: ...
    @property
    def allow_headers(self) -> Sequence[str] | None: ...
    @property
    def allow_methods(self) -> Sequence[str] | None: ...
    @property
    def allow_origins(self) -> Sequence[str] | None: ...
    @property
    def expose_headers(self) -> Sequence[str] | None: ...
    @property
    def max_age(self) -> int | None: ...


def cors_shape(cors: CorsSettings, *, omit_empty: bool = False) -> dict[str, Any]:
    """The members that are set; a list is unset when None, and also when empty with `omit_empty`
    (HTTP APIs store an absent list as an empty one; function URLs keep a list set to [] apart)."""
    shape: dict[str, Any] = {}
    if cors.allow_credentials is not None:
        shape["AllowCredentials"] = cors.allow_credentials
    for member, values in (
        ("AllowHeaders", cors.allow_headers),
        ("AllowMethods", cors.allow_methods),
        ("AllowOrigins", cors.allow_origins),
        ("ExposeHeaders", cors.expose_headers),
    ):
        if values is not None and (values or not omit_empty):
            shape[member] = list(values)
    if cors.max_age is not None:
        shape["MaxAge"] = cors.max_age
    return shape
