"""Runtime hooks for Lambda SnapStart (the API of AWS's ``snapshot-restore-py``, bundled with the runtime).

    from snapshot_restore_py import register_before_snapshot, register_after_restore

    @register_before_snapshot
    def close_connections(): ...

    @register_after_restore
    def reconnect(): ...

Before-snapshot hooks run after Init, in reverse order of registration; after-restore hooks run in every
restored environment, in order of registration, before its first invocation.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

__all__ = ["register_after_restore", "register_before_snapshot"]

_before_snapshot_registry: list[Hook] = []
_after_restore_registry: list[Hook] = []


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Run `func(*args, **kwargs)` before the snapshot is taken; usable as a decorator."""
    _before_snapshot_registry.append((func, args, kwargs))
    return func


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Run `func(*args, **kwargs)` in each environment restored from the snapshot; usable as a decorator."""
    _after_restore_registry.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return _before_snapshot_registry


def get_after_restore() -> list[Hook]:
    return _after_restore_registry
