"""A FunctionStore wrapper that keeps environment variables encrypted at rest.

Versions are written with their variables sealed by KMS (`core/kms/lambda_keys.py`) under one reserved key
no variable can have (names must start with a letter), and opened again when read, so the core and the
execution environments only ever see plaintext while the database holds none.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from lambdabox.core.models import FunctionVersion
from lambdabox.storage.interfaces import FunctionStore

SEALED = "_lambdabox_sealed"


class Sealer(Protocol):
    def seal(self, version: FunctionVersion, variables: dict[str, str]) -> str: ...
    def open(self, version: FunctionVersion, sealed: str) -> dict[str, str]: ...


class SealingFunctionStore:
    def __init__(self, inner: FunctionStore, sealer: Sealer) -> None:
        self._inner = inner
        self._sealer = sealer
        # Everything but the versions passes through unchanged.
        self.transaction = inner.transaction
        self.get_function = inner.get_function
        self.list_functions = inner.list_functions
        self.put_function = inner.put_function
        self.delete_function = inner.delete_function
        self.delete_version = inner.delete_version
        self.get_alias = inner.get_alias
        self.list_aliases = inner.list_aliases
        self.put_alias = inner.put_alias
        self.delete_alias = inner.delete_alias

    def _open(self, version: FunctionVersion | None) -> FunctionVersion | None:
        if version is None or not version.environment or SEALED not in version.environment:
            return version
        return replace(version, environment=self._sealer.open(version, version.environment[SEALED]))

    def get_version(self, name: str, version: str) -> FunctionVersion | None:
        return self._open(self._inner.get_version(name, version))

    def list_versions(self, name: str) -> list[FunctionVersion]:
        opened = [self._open(v) for v in self._inner.list_versions(name)]
        return [v for v in opened if v is not None]

    def put_version(self, version: FunctionVersion) -> None:
        if version.environment:
            version = replace(version, environment={SEALED: self._sealer.seal(version, version.environment)})
        self._inner.put_version(version)
