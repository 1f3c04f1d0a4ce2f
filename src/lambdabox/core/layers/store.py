"""What the layer service needs from storage. Writes inside `transaction()` commit together."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from lambdabox.core.layers.models import LayerVersion


class LayerStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def next_version(self, name: str) -> int: ...  # 1, 2, … per layer; never the same number twice
    def put(self, version: LayerVersion) -> None: ...  # insert or replace
    def get(self, name: str, version: int) -> LayerVersion | None: ...  # deleted versions included
    def list_versions(self, name: str) -> list[LayerVersion]: ...  # live ones, newest first
    def list_names(self) -> list[str]: ...  # layers with a live version, by name
