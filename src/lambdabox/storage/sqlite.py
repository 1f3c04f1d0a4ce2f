"""The embedded SQLite database (WAL) the stores share, and the function and async-event stores."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec

from lambdabox.core.models import LATEST, Alias, Function, FunctionVersion, QueuedEvent

log = logging.getLogger(__name__)
CHECKPOINT_INTERVAL_S = 0.2

SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (name TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL, version TEXT NOT NULL, ordinal INTEGER NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT NOT NULL, alias TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (name, alias));
CREATE TABLE IF NOT EXISTS async_events (
    id TEXT PRIMARY KEY, doc BLOB NOT NULL, not_before REAL NOT NULL, claimed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS async_events_due ON async_events (claimed, not_before);
"""


class Database:
    """One SQLite connection shared by the stores; a re-entrant lock makes it safe across threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0
        self._checkpoints: _Checkpointer | None = None

    def checkpoint_in_background(self, interval: float = CHECKPOINT_INTERVAL_S) -> None:
        """Copy the WAL's pages into the database file from a thread of its own, every `interval` s,
        instead of in whichever commit takes the WAL past SQLite's threshold: that checkpoint syncs the WAL
        and the database file (milliseconds each, here) while the committing thread, the event loop, waits."""
        if self._checkpoints is None:
            with self._lock:
                self._conn.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpoints = _Checkpointer(self._path, interval)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    @property
    def in_transaction(self) -> bool:
        """Is a transaction open (in any thread)? Caches of committed state are bypassed meanwhile."""
        return self._depth > 0

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self._conn.executemany(sql, rows)

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None
        with self._lock:
            self._conn.close()  # (the last connection to close checkpoints what is left)


class _Checkpointer:
    """A thread with its own connection running passive checkpoints: they never block the database's
    readers or writers (they copy what no reader still needs), and SQLite leaves the GIL while they write."""

    def __init__(self, path: Path, interval: float) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="sqlite-checkpoints", daemon=True
        )
        self._thread.start()

    def _run(self, interval: float) -> None:
        try:
            while not self._stopping.wait(interval):
                try:
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the next round tries again
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            self._conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


_encode = msgspec.json.encode


class SqliteStore:
    """What every store keeping its tables in the shared database does: create its tables (idempotent
    `CREATE ... IF NOT EXISTS` statements) when it is built, and hand out the database's transactions."""

    def __init__(self, db: Database, schema: str) -> None:
        self._db = db
        with db.transaction():
            for statement in filter(str.strip, schema.split(";")):
                db.execute(statement)

    def transaction(self) -> AbstractContextManager[None]:
        return self._db.transaction()


class SqliteFunctionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def transaction(self) -> Any:
        return self._db.transaction()

    def get_function(self, name: str) -> Function | None:
        rows = self._db.execute("SELECT doc FROM functions WHERE name = ?", (name,))
        return msgspec.json.decode(rows[0][0], type=Function) if rows else None

    def list_functions(self) -> list[Function]:
        rows = self._db.execute("SELECT doc FROM functions ORDER BY name")
        return [msgspec.json.decode(row[0], type=Function) for row in rows]

    def put_function(self, function: Function) -> None:
        self._db.execute(
            "INSERT INTO functions (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc",
            (function.name, _encode(function)),
        )

    def delete_function(self, name: str) -> None:
        with self._db.transaction():
            for table in ("functions", "versions", "aliases"):
                self._db.execute(f"DELETE FROM {table} WHERE name = ?", (name,))

    def get_version(self, name: str, version: str) -> FunctionVersion | None:
        rows = self._db.execute("SELECT doc FROM versions WHERE name = ? AND version = ?", (name, version))
        return msgspec.json.decode(rows[0][0], type=FunctionVersion) if rows else None

    def list_versions(self, name: str) -> list[FunctionVersion]:
        rows = self._db.execute("SELECT doc FROM versions WHERE name = ? ORDER BY ordinal", (name,))
        return [msgspec.json.decode(row[0], type=FunctionVersion) for row in rows]

    def put_version(self, version: FunctionVersion) -> None:
        ordinal = 0 if version.version == LATEST else int(version.version)
        self._db.execute(
            "INSERT INTO versions (name, version, ordinal, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name, version) DO UPDATE SET doc = excluded.doc",
            (version.name, version.version, ordinal, _encode(version)),
        )

    def delete_version(self, name: str, version: str) -> None:
        self._db.execute("DELETE FROM versions WHERE name = ? AND version = ?", (name, version))

    def get_alias(self, function_name: str, alias: str) -> Alias | None:
        rows = self._db.execute(
            "SELECT doc FROM aliases WHERE name = ? AND alias = ?", (function_name, alias)
        )
        return msgspec.json.decode(rows[0][0], type=Alias) if rows else None

    def list_aliases(self, function_name: str) -> list[Alias]:
        rows = self._db.execute("SELECT doc FROM aliases WHERE name = ? ORDER BY alias", (function_name,))
        return [msgspec.json.decode(row[0], type=Alias) for row in rows]

    def put_alias(self, alias: Alias) -> None:
        self._db.execute(
            "INSERT INTO aliases (name, alias, doc) VALUES (?, ?, ?) "
            "ON CONFLICT(name, alias) DO UPDATE SET doc = excluded.doc",
            (alias.function_name, alias.name, _encode(alias)),
        )

    def delete_alias(self, function_name: str, alias: str) -> None:
        self._db.execute("DELETE FROM aliases WHERE name = ? AND alias = ?", (function_name, alias))


class SqliteEventQueue:
    def __init__(self, db: Database) -> None:
        self._db = db

    def enqueue(self, event: QueuedEvent) -> None:
        self._db.execute(
            "INSERT INTO async_events (id, doc, not_before) VALUES (?, ?, ?)",
            (event.id, _encode(event), event.not_before),
        )

    def claim(self, now: float, limit: int) -> list[QueuedEvent]:
        with self._db.transaction():
            rows = self._db.execute(
                "SELECT id, doc FROM async_events WHERE claimed = 0 AND not_before <= ? "
                "ORDER BY not_before LIMIT ?",
                (now, limit),
            )
            if rows:
                self._db.executemany(
                    "UPDATE async_events SET claimed = 1 WHERE id = ?", [(r[0],) for r in rows]
                )
        return [msgspec.json.decode(row[1], type=QueuedEvent) for row in rows]

    def complete(self, event_id: str) -> None:
        self._db.execute("DELETE FROM async_events WHERE id = ?", (event_id,))

    def reschedule(self, event_id: str, attempts: int, not_before: float) -> None:
        with self._db.transaction():
            rows = self._db.execute("SELECT doc FROM async_events WHERE id = ?", (event_id,))
            if not rows:
                return
            event = replace(
                msgspec.json.decode(rows[0][0], type=QueuedEvent), attempts=attempts, not_before=not_before
            )
            self._db.execute(
                "UPDATE async_events SET doc = ?, not_before = ?, claimed = 0 WHERE id = ?",
                (_encode(event), not_before, event_id),
            )

    def release_claims(self) -> int:
        rows = self._db.execute("SELECT count(*) FROM async_events WHERE claimed = 1")
        self._db.execute("UPDATE async_events SET claimed = 0 WHERE claimed = 1")
        return int(rows[0][0])

    def next_due(self) -> float | None:
        rows = self._db.execute("SELECT min(not_before) FROM async_events WHERE claimed = 0")
        return None if rows[0][0] is None else float(rows[0][0])
