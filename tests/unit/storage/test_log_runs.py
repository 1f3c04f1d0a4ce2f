"""Log events stored in runs (one row per stream and append): reads return exactly what one row per event
would, in (timestamp, append order), for every kind of range, cursor, filter and direction."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from lambdabox.storage import logs_sqlite
from lambdabox.storage.interfaces import LogEvent
from lambdabox.storage.logs_sqlite import RUN_SPAN_MS, SqliteLogStore, runs
from lambdabox.storage.sqlite import Database


@pytest.fixture
def store(tmp_path: Path) -> SqliteLogStore:
    return SqliteLogStore(Database(tmp_path / "db.sqlite"))


def test_runs_are_cut_at_their_span_and_keep_the_events_order() -> None:
    events = [(0, "a"), (RUN_SPAN_MS, "b"), (5, "c"), (RUN_SPAN_MS + 6, "d"), (RUN_SPAN_MS + 1, "e")]
    assert [(low, high, list(run)) for low, high, run in runs(events)] == [
        (0, RUN_SPAN_MS, [(0, "a"), (RUN_SPAN_MS, "b"), (5, "c")]),
        (RUN_SPAN_MS + 1, RUN_SPAN_MS + 6, events[3:]),
    ]
    assert [(low, high) for low, high, _ in runs(events[:3])] == [(0, RUN_SPAN_MS)]  # one run: as it is
    assert list(runs([])) == []


def test_runs_are_cut_at_their_size(store: SqliteLogStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs_sqlite, "RUN_EVENTS", 4)
    events = [(i % 3, f"m{i}") for i in range(10)]  # ties: the order of appending decides
    assert [len(run) for _, _, run in runs(events)] == [4, 4, 2]
    store.append({("g", "s"): events})
    assert [e.message for e in store.read_events("g", limit=20)] == [
        "m0",
        "m3",
        "m6",
        "m9",
        "m1",
        "m4",
        "m7",
        "m2",
        "m5",
        "m8",
    ]
    assert [e.message for e in store.read_events("g", limit=3, descending=True)] == ["m8", "m5", "m2"]


def _brute(everything: list[LogEvent], **query: object) -> list[LogEvent]:
    """What one row per event and an ORDER BY would give."""
    streams, prefix = query.get("streams"), query.get("stream_prefix")
    start, end = query.get("start"), query.get("end")
    after, before = query.get("after"), query.get("before")
    picked = [
        e
        for e in everything
        if (streams is None or e.stream in streams)  # type: ignore[operator]
        and (not prefix or e.stream.startswith(prefix))  # type: ignore[arg-type]
        and (start is None or e.timestamp >= start)  # type: ignore[operator]
        and (end is None or e.timestamp < end)  # type: ignore[operator]
        and (after is None or (e.timestamp, e.event_id) > after)  # type: ignore[operator]
        and (before is None or (e.timestamp, e.event_id) < before)  # type: ignore[operator]
    ]
    picked.sort(key=lambda e: (e.timestamp, e.event_id), reverse=bool(query.get("descending")))
    return picked[: query["limit"]]  # type: ignore[misc]


def test_reads_match_one_row_per_event(store: SqliteLogStore) -> None:
    rng = random.Random(7)
    names = ["app/1", "app/2", "other"]
    for _ in range(300):  # appends of 0..40 events over ~3 s, ties and disorder within an append included
        base = rng.randrange(0, 3000)
        batches = {
            ("g", name): [
                (base + rng.randrange(-20, 400), f"m{rng.random()}") for _ in range(rng.randrange(41))
            ]
            for name in rng.sample(names, rng.randrange(1, 4))
        }
        store.append(batches)
    store.append({("elsewhere", "app/1"): [(100, "not in g")]})
    everything = store.read_events("g", limit=100_000)
    assert len({e.event_id for e in everything}) == len(everything) > 5000
    assert everything == sorted(everything, key=lambda e: (e.timestamp, e.event_id))
    for _ in range(400):
        pivot = rng.choice(everything)
        query: dict[str, object] = {"limit": rng.choice([1, 3, 50, 1000, 100_000])}
        if rng.random() < 0.3:
            query["streams"] = rng.sample(names, rng.randrange(1, 3))
        elif rng.random() < 0.2:
            query["stream_prefix"] = "app/"
        if rng.random() < 0.4:
            query["start"] = rng.randrange(-50, 3500)
        if rng.random() < 0.4:
            query["end"] = rng.randrange(-50, 3500)
        if rng.random() < 0.4:
            query["after" if rng.random() < 0.5 else "before"] = (pivot.timestamp, pivot.event_id)
        query["descending"] = rng.random() < 0.5
        assert store.read_events("g", **query) == _brute(everything, **query), query  # type: ignore[arg-type]


def test_paging_through_a_stream_with_cursors_sees_every_event_once(store: SqliteLogStore) -> None:
    for second in range(50):
        store.append({("g", "s"): [(second * 100 + i % 7, f"{second}.{i}") for i in range(30)]})
    expected = store.read_events("g", limit=10_000)
    for descending in (False, True):
        seen: list[LogEvent] = []
        position = None
        while page := store.read_events(
            "g",
            limit=37,
            after=None if descending else position,
            before=position if descending else None,
            descending=descending,
        ):
            seen.extend(page)
            position = (page[-1].timestamp, page[-1].event_id)
        assert seen == (expected[::-1] if descending else expected)


def test_events_of_an_older_data_dir_are_moved_into_runs(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE log_groups (name TEXT PRIMARY KEY, created INTEGER NOT NULL);
        CREATE TABLE log_streams (
            grp TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL, first_event INTEGER,
            last_event INTEGER, last_ingestion INTEGER, stored_bytes INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (grp, name));
        CREATE TABLE log_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL, stream TEXT NOT NULL,
            ts INTEGER NOT NULL, ingested INTEGER NOT NULL, message TEXT NOT NULL);
        INSERT INTO log_groups VALUES ('g', 1);
        INSERT INTO log_streams VALUES ('g', 'a', 1, 5, 9, 10, 12), ('g', 'b', 1, 5, 5, 10, 4);
        INSERT INTO log_events (grp, stream, ts, ingested, message) VALUES
            ('g', 'a', 9, 10, 'late'), ('g', 'a', 5, 10, 'tie 1'), ('g', 'b', 5, 10, 'tie 2'),
            ('g', 'a', 5, 11, 'tie 3');
        """
    )
    old.commit()
    old.close()
    store = SqliteLogStore(Database(path))
    events = store.read_events("g", limit=10)
    assert [(e.stream, e.timestamp, e.message, e.ingestion_time) for e in events] == [
        ("a", 5, "tie 1", 10),
        ("b", 5, "tie 2", 10),
        ("a", 5, "tie 3", 11),
        ("a", 9, "late", 10),
    ]
    assert [s.stored_bytes for s in store.list_streams("g")] == [12, 4]
    assert not store._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'log_events'")
    SqliteLogStore(Database(path))  # the next start has nothing left to move
