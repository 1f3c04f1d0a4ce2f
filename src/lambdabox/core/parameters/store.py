"""The storage contract of the Parameter Store core (embedded backend: `storage/parameters_sqlite.py`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from lambdabox.core.parameters.models import Parameter


class ParameterStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def get(self, name: str) -> Parameter | None: ...
    def list(self, prefix: str = "") -> list[Parameter]: ...  # names starting with `prefix`, by name
    def put(self, parameter: Parameter, tier: str) -> None: ...
    def delete(self, name: str) -> None: ...
    def count(self, tier: str) -> int: ...  # parameters whose current version has `tier`
