"""A read-through cache in front of a FunctionStore, for the invoke path's lookups.

Valid while this process is the only writer (the embedded default). Writes drop entries; a read fills
the cache only when no write happened since it started and no transaction is open, so a rolled-back
or concurrent write can never leave a stale entry behind."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from lambdabox.core.models import Alias, Function, FunctionVersion
from lambdabox.storage.interfaces import FunctionStore

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class CachingFunctionStore:
    def __init__(self, inner: FunctionStore) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._generation = 0
        self._open_transactions = 0
        self._functions: dict[str, Function | None] = {}
        self._versions: dict[tuple[str, str], FunctionVersion | None] = {}
        self._aliases: dict[tuple[str, str], Alias | None] = {}

    def _read(self, cache: dict[K, T | None], key: K, load: Callable[[], T | None]) -> T | None:
        with self._lock:
            if key in cache:
                return cache[key]
            generation = self._generation
        value = load()
        with self._lock:
            if generation == self._generation and self._open_transactions == 0:
                cache[key] = value
        return value

    def _changed(self) -> None:
        with self._lock:
            self._generation += 1
            self._functions.clear()
            self._versions.clear()
            self._aliases.clear()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._open_transactions += 1
        try:
            with self._inner.transaction():
                yield
        finally:
            with self._lock:
                self._open_transactions -= 1
            self._changed()

    def get_function(self, name: str) -> Function | None:
        return self._read(self._functions, name, lambda: self._inner.get_function(name))

    def list_functions(self) -> list[Function]:
        return self._inner.list_functions()

    def put_function(self, function: Function) -> None:
        self._changed()
        self._inner.put_function(function)
        self._changed()

    def delete_function(self, name: str) -> None:
        self._changed()
        self._inner.delete_function(name)
        self._changed()

    def get_version(self, name: str, version: str) -> FunctionVersion | None:
        return self._read(self._versions, (name, version), lambda: self._inner.get_version(name, version))

    def list_versions(self, name: str) -> list[FunctionVersion]:
        return self._inner.list_versions(name)

    def put_version(self, version: FunctionVersion) -> None:
        self._changed()
        self._inner.put_version(version)
        self._changed()

    def delete_version(self, name: str, version: str) -> None:
        self._changed()
        self._inner.delete_version(name, version)
        self._changed()

    def get_alias(self, function_name: str, alias: str) -> Alias | None:
        return self._read(
            self._aliases, (function_name, alias), lambda: self._inner.get_alias(function_name, alias)
        )

    def list_aliases(self, function_name: str) -> list[Alias]:
        return self._inner.list_aliases(function_name)

    def put_alias(self, alias: Alias) -> None:
        self._changed()
        self._inner.put_alias(alias)
        self._changed()

    def delete_alias(self, function_name: str, alias: str) -> None:
        self._changed()
        self._inner.delete_alias(function_name, alias)
        self._changed()
