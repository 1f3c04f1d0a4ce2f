"""The storage contract of the KMS core (embedded backend: `storage/kms_sqlite.py`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from lambdabox.core.kms.models import KmsAlias, KmsKey


class KmsStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def get_key(self, key_id: str) -> KmsKey | None: ...
    def key_material(self, key_id: str) -> bytes | None: ...
    def list_keys(self) -> list[KmsKey]: ...  # by creation, oldest first
    def put_key(self, key: KmsKey, material: bytes | None = None) -> None: ...  # material: only when new
    def purge(self, now: float) -> None: ...  # delete keys whose deletion date passed, with their aliases
    def get_alias(self, name: str) -> KmsAlias | None: ...
    def list_aliases(self) -> list[KmsAlias]: ...  # by name
    def put_alias(self, alias: KmsAlias) -> None: ...
    def delete_alias(self, name: str) -> None: ...
