"""Function URL configurations in SQLite: one per function and qualifier, found by id, gone with the function."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lambdabox.core.function_urls import Cors, FunctionUrl
from lambdabox.storage.sqlite import Database
from lambdabox.storage.urls_sqlite import SqliteUrlStore


def _url(url_id: str, function: str, qualifier: str | None) -> FunctionUrl:
    return FunctionUrl(
        url_id, function, qualifier, "NONE", "BUFFERED", "t0", "t0", Cors(allow_origins=("*",))
    )


def test_round_trip_and_deletes(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    store = SqliteUrlStore(db)
    plain, aliased = _url("a" * 32, "fn", None), _url("b" * 32, "fn", "live")
    store.put(plain)
    store.put(aliased)
    store.put(_url("c" * 32, "other", None))
    assert (
        store.get("a" * 32) == plain
        and store.find("fn", None) == plain
        and store.find("fn", "live") == aliased
    )
    assert [u.url_id for u in store.list_for("fn")] == ["a" * 32, "b" * 32]
    store.delete("b" * 32)
    assert store.find("fn", "live") is None
    store.delete_for("fn")
    assert store.list_for("fn") == [] and store.get("c" * 32) is not None
    db.close()
    # Stable across restarts: a new connection on the same file sees the same ids.
    again = Database(tmp_path / "db.sqlite")
    assert SqliteUrlStore(again).find("other", None) == _url("c" * 32, "other", None)
    again.close()


def test_one_url_per_function_and_qualifier(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    store = SqliteUrlStore(db)
    store.put(_url("a" * 32, "fn", None))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        store.put(_url("d" * 32, "fn", None))
    db.close()
