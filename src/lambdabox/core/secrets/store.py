"""The storage contract of the Secrets Manager core (embedded backend: `storage/secrets_sqlite.py`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from lambdabox.core.secrets.models import Secret


class SecretsStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def get(self, name: str) -> Secret | None: ...
    def get_by_arn(self, arn: str) -> Secret | None: ...
    def list_all(self) -> list[Secret]: ...  # by creation, oldest first
    def put(self, secret: Secret, rotate_at: float | None) -> None: ...
    def delete(self, name: str) -> None: ...
    def purge(self, now: float) -> None: ...  # drop secrets whose recovery window ended
    def due_rotations(self, now: float) -> list[Secret]: ...  # automatic rotation due by `now`
