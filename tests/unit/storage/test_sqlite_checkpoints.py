"""The platform's database checkpoints its WAL from a thread of its own; log batches of several streams
go in with one commit."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import msgspec

from lambdabox.storage.logs_sqlite import SqliteLogStore
from lambdabox.storage.sqlite import Database


def _rows(path: Path) -> int:
    """Log events in the database file, read through a connection of its own."""
    other = sqlite3.connect(path)
    try:
        return sum(
            len(msgspec.msgpack.decode(run)) for (run,) in other.execute("SELECT events FROM log_runs")
        )
    finally:
        other.close()


def test_the_wal_is_checkpointed_in_the_background_not_by_commits(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    db = Database(path)
    db.checkpoint_in_background(interval=0.05)
    assert db.execute("PRAGMA wal_autocheckpoint") == [(0,)]  # commits no longer checkpoint
    store = SqliteLogStore(db)
    empty = path.stat().st_size
    line = "x" * 1000
    for batch in range(40):
        store.append({("/aws/lambda/f", "s"): [(1_700_000_000_000 + batch, line)] * 100})
    deadline = time.monotonic() + 10
    while path.stat().st_size < empty + 3_000_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.stat().st_size >= empty + 3_000_000  # the 4 MB of events reached the database file
    assert _rows(path) == 4000
    db.close()
    assert not Path(f"{path}-wal").exists()  # the last connection checkpointed the rest and removed it
    assert _rows(path) == 4000


def test_one_append_writes_every_stream_of_a_batch(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    store = SqliteLogStore(db)
    store.append({("g", "a"): [(1, "one\n"), (3, "three\n")], ("g", "b"): [(2, "two\n")], ("g", "c"): []})
    events = store.read_events("g", limit=10)
    assert [(e.stream, e.timestamp, e.message) for e in events] == [
        ("a", 1, "one\n"),
        ("b", 2, "two\n"),
        ("a", 3, "three\n"),
    ]
    streams = {s.name: s for s in store.list_streams("g")}
    assert set(streams) == {"a", "b"}  # (a stream with nothing to write is not made)
    assert (streams["a"].first_event, streams["a"].last_event, streams["a"].stored_bytes) == (1, 3, 10)
    db.close()
