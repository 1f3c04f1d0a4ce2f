"""CloudWatch-Logs-like groups, streams and events in the shared SQLite database.

Events are stored in runs: one row holds the consecutive events of one stream from one `append` (a log
sink's flush, a PutLogEvents call), encoded together, with the run's first and last timestamp. A warm
invocation's START, END and REPORT lines then cost a share of one row and its index entries instead of
three rows with three index entries each (~6 µs per row here, written on the event loop). A run spans
at most `RUN_SPAN_MS` of timestamps and `RUN_EVENTS` events, so that reads find every run that can hold
an event of a time range from the index on the runs' first timestamps.

An event's id is its run's id times `RUN_EVENTS` plus its place in the run: ids grow in the order events
were appended, which orders events with equal timestamps, as AWS does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import msgspec

from lambdabox.storage.interfaces import EventPosition, LogEvent, LogGroupInfo, LogStream
from lambdabox.storage.sqlite import Database, SqliteStore

RUN_SPAN_MS = 250  # the timestamps of one run's events lie within this many ms of its first
RUN_EVENTS = 1 << 16  # events per run at most (event id = run id * RUN_EVENTS + place in the run)
_RUNS_PER_QUERY = 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (name TEXT PRIMARY KEY, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS log_group_meta (
    name TEXT PRIMARY KEY, retention INTEGER, class TEXT NOT NULL DEFAULT 'STANDARD',
    tags BLOB NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS log_streams (
    grp TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL, first_event INTEGER,
    last_event INTEGER, last_ingestion INTEGER, stored_bytes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grp, name));
CREATE TABLE IF NOT EXISTS log_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL, stream TEXT NOT NULL,
    first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, ingested INTEGER NOT NULL, events BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS log_runs_by_stream ON log_runs (grp, stream, first_ts);
CREATE INDEX IF NOT EXISTS log_runs_by_group ON log_runs (grp, first_ts);
"""

_GROUP_COLUMNS = (
    "SELECT g.name, g.created, "
    "(SELECT coalesce(sum(s.stored_bytes), 0) FROM log_streams s WHERE s.grp = g.name), "
    "m.retention, coalesce(m.class, 'STANDARD'), coalesce(m.tags, '{}') "
    "FROM log_groups g LEFT JOIN log_group_meta m ON m.name = g.name"
)

Event = tuple[int, str]  # (timestamp ms, message)
_encode_run = msgspec.msgpack.Encoder().encode
_decode_run = msgspec.msgpack.Decoder(list[tuple[int, str]]).decode
_encode = msgspec.json.encode


def _now_ms() -> int:
    return int(time.time() * 1000)


def _group(row: tuple[Any, ...]) -> LogGroupInfo:
    return LogGroupInfo(
        name=str(row[0]),
        created=int(row[1]),
        stored_bytes=int(row[2]),
        retention_days=None if row[3] is None else int(row[3]),
        log_group_class=str(row[4]),
        tags=msgspec.json.decode(row[5], type=dict[str, str]),
    )


def runs(events: Sequence[Event]) -> Iterator[tuple[int, int, Sequence[Event]]]:
    """`events` cut, in their order, into runs of at most RUN_EVENTS events within RUN_SPAN_MS: (first
    timestamp, last timestamp, events) each. Usually one run: a flush holds a few ms of a stream."""
    stamps = [ts for ts, _ in events]
    if not stamps:
        return
    low, high = min(stamps), max(stamps)
    if high - low <= RUN_SPAN_MS and len(stamps) <= RUN_EVENTS:
        yield low, high, events
        return
    start = 0
    low = high = stamps[0]
    for index, ts in enumerate(stamps):
        if index - start >= RUN_EVENTS or max(high, ts) - min(low, ts) > RUN_SPAN_MS:
            yield low, high, events[start:index]
            start, low, high = index, ts, ts
        else:
            low, high = min(low, ts), max(high, ts)
    yield low, high, events[start:]


class SqliteLogStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)
        self._migrate_event_rows()

    def ensure_group(self, group: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO log_groups (name, created) VALUES (?, ?)", (group, _now_ms()))

    def ensure_stream(self, group: str, stream: str) -> None:
        with self._db.transaction():
            self.ensure_group(group)
            self._db.execute(
                "INSERT OR IGNORE INTO log_streams (grp, name, created) VALUES (?, ?, ?)",
                (group, stream, _now_ms()),
            )

    def append(self, batches: Mapping[tuple[str, str], Sequence[Event]]) -> None:
        ingested = _now_ms()
        with self._db.transaction():  # one commit for every stream's events (one WAL write of each page)
            for (group, stream), events in batches.items():
                if not events:
                    continue
                self.ensure_stream(group, stream)
                first, last = self._insert_runs(group, stream, events, ingested)
                self._db.execute(
                    "UPDATE log_streams SET first_event = min(coalesce(first_event, ?), ?), "
                    "last_event = max(coalesce(last_event, ?), ?), last_ingestion = ?, "
                    "stored_bytes = stored_bytes + ? WHERE grp = ? AND name = ?",
                    (first, first, last, last, ingested, sum(len(m) for _, m in events), group, stream),
                )

    def _insert_runs(
        self, group: str, stream: str, events: Sequence[Event], ingested: int
    ) -> tuple[int, int]:
        """Stores `events` (not empty) as runs; returns their first and last timestamp."""
        rows = [(group, stream, low, high, ingested, _encode_run(run)) for low, high, run in runs(events)]
        self._db.executemany(
            "INSERT INTO log_runs (grp, stream, first_ts, last_ts, ingested, events) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        return min(row[2] for row in rows), max(row[3] for row in rows)

    def delete_group(self, group: str) -> bool:
        with self._db.transaction():
            found = self._db.execute("SELECT 1 FROM log_groups WHERE name = ?", (group,))
            for table, column in (
                ("log_runs", "grp"),
                ("log_streams", "grp"),
                ("log_group_meta", "name"),
                ("log_groups", "name"),
            ):
                self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (group,))
        return bool(found)

    def list_streams(self, group: str, prefix: str | None = None) -> list[LogStream]:
        rows = self._db.execute(
            "SELECT name, created, first_event, last_event, last_ingestion, stored_bytes FROM log_streams "
            "WHERE grp = ? AND substr(name, 1, ?) = ? ORDER BY name",
            (group, *_prefix_args(prefix)),
        )
        return [LogStream(*row) for row in rows]

    def create_group(self, group: str, log_group_class: str, tags: Mapping[str, str]) -> bool:
        with self._db.transaction():
            if self._db.execute("SELECT 1 FROM log_groups WHERE name = ?", (group,)):
                return False
            self._db.execute("INSERT INTO log_groups (name, created) VALUES (?, ?)", (group, _now_ms()))
            self._db.execute(
                "INSERT OR REPLACE INTO log_group_meta (name, retention, class, tags) VALUES (?, NULL, ?, ?)",
                (group, log_group_class, _encode(dict(tags))),
            )
        return True

    def get_group(self, group: str) -> LogGroupInfo | None:
        rows = self._db.execute(_GROUP_COLUMNS + " WHERE g.name = ?", (group,))
        return _group(rows[0]) if rows else None

    def describe_groups(self, prefix: str | None = None) -> list[LogGroupInfo]:
        rows = self._db.execute(
            _GROUP_COLUMNS + " WHERE substr(g.name, 1, ?) = ? ORDER BY g.name", _prefix_args(prefix)
        )
        return [_group(row) for row in rows]

    def _update_meta(self, group: str, column: str, value: Any) -> bool:
        with self._db.transaction():
            if not self._db.execute("SELECT 1 FROM log_groups WHERE name = ?", (group,)):
                return False
            self._db.execute("INSERT OR IGNORE INTO log_group_meta (name) VALUES (?)", (group,))
            self._db.execute(f"UPDATE log_group_meta SET {column} = ? WHERE name = ?", (value, group))
        return True

    def set_retention(self, group: str, days: int | None) -> bool:
        return self._update_meta(group, "retention", days)

    def set_tags(self, group: str, tags: Mapping[str, str]) -> bool:
        return self._update_meta(group, "tags", _encode(dict(tags)))

    def create_stream(self, group: str, stream: str) -> bool:
        with self._db.transaction():
            if self._db.execute("SELECT 1 FROM log_streams WHERE grp = ? AND name = ?", (group, stream)):
                return False
            self.ensure_stream(group, stream)
        return True

    def get_stream(self, group: str, stream: str) -> LogStream | None:
        rows = self._db.execute(
            "SELECT name, created, first_event, last_event, last_ingestion, stored_bytes FROM log_streams "
            "WHERE grp = ? AND name = ?",
            (group, stream),
        )
        return LogStream(*rows[0]) if rows else None

    def delete_stream(self, group: str, stream: str) -> bool:
        with self._db.transaction():
            found = self._db.execute("SELECT 1 FROM log_streams WHERE grp = ? AND name = ?", (group, stream))
            self._db.execute("DELETE FROM log_runs WHERE grp = ? AND stream = ?", (group, stream))
            self._db.execute("DELETE FROM log_streams WHERE grp = ? AND name = ?", (group, stream))
        return bool(found)

    def read_events(
        self,
        group: str,
        *,
        limit: int,
        streams: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        start: int | None = None,
        end: int | None = None,
        after: EventPosition | None = None,
        before: EventPosition | None = None,
        descending: bool = False,
    ) -> list[LogEvent]:
        """Runs are read in the order of their first timestamps, a few at a time, until no run left can
        hold an event that sorts before the `limit`-th found: ascending, a run whose first timestamp is
        past it; descending, one whose first timestamp is more than RUN_SPAN_MS before it."""
        low = start if after is None else after[0] if start is None else max(start, after[0])
        high = None if end is None else end - 1  # inclusive
        if before is not None:
            high = before[0] if high is None else min(high, before[0])
        if limit <= 0 or streams == [] or (low is not None and high is not None and low > high):
            return []
        where = "grp = ?"
        args: list[Any] = [group]
        if streams is not None:
            where += f" AND stream IN ({','.join('?' * len(streams))})"
            args.extend(streams)
        if stream_prefix:
            where += " AND substr(stream, 1, ?) = ?"
            args.extend(_prefix_args(stream_prefix))
        if low is not None:
            where += " AND first_ts >= ? AND last_ts >= ?"
            args.extend((low - RUN_SPAN_MS, low))
        if high is not None:
            where += " AND first_ts <= ?"
            args.append(high)

        def wanted(ts: int, event_id: int) -> bool:
            if (low is not None and ts < low) or (high is not None and ts > high):
                return False
            if after is not None and (ts, event_id) <= after:
                return False
            return before is None or (ts, event_id) < before

        found: list[LogEvent] = []
        for run_id, first_ts, stream, ingested, data in self._runs(where, args, descending):
            if len(found) >= limit:
                found.sort(key=_order, reverse=descending)
                del found[limit:]
                edge = found[-1].timestamp
                if (first_ts + RUN_SPAN_MS < edge) if descending else (first_ts > edge):
                    break
            base = run_id * RUN_EVENTS
            found.extend(
                LogEvent(ts, message, ingested, stream, base + place)
                for place, (ts, message) in enumerate(_decode_run(data))
                if wanted(ts, base + place)
            )
        found.sort(key=_order, reverse=descending)
        return found[:limit]

    def _runs(
        self, where: str, args: list[Any], descending: bool
    ) -> Iterator[tuple[int, int, str, int, bytes]]:
        """The matching runs in (first timestamp, id) order, `_RUNS_PER_QUERY` rows per query."""
        order, later = ("DESC", "<") if descending else ("ASC", ">")
        sql = f"SELECT id, first_ts, stream, ingested, events FROM log_runs WHERE {where}"
        resume = f" AND (first_ts {later} ? OR (first_ts = ? AND id {later} ?))"
        tail = f" ORDER BY first_ts {order}, id {order} LIMIT {_RUNS_PER_QUERY}"
        rows = self._db.execute(sql + tail, args)
        while rows:
            yield from rows
            if len(rows) < _RUNS_PER_QUERY:
                return
            last_id, last_ts = rows[-1][0], rows[-1][1]
            rows = self._db.execute(sql + resume + tail, [*args, last_ts, last_ts, last_id])

    def _migrate_event_rows(self) -> None:
        """Data dirs written before runs existed keep their events one per row in `log_events`: moved
        into runs once, at start, in their order (events with equal timestamps keep their order)."""
        if not self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_events'"):
            return
        with self._db.transaction():
            key: tuple[str, str, int] | None = None
            pending: list[Event] = []
            last_id = -1
            while rows := self._db.execute(
                "SELECT id, grp, stream, ingested, ts, message FROM log_events WHERE id > ? ORDER BY id "
                "LIMIT 10000",
                (last_id,),
            ):
                for _, group, stream, ingested, ts, message in rows:
                    if (group, stream, ingested) != key:
                        if key is not None:
                            self._insert_runs(*key[:2], pending, key[2])
                        key, pending = (group, stream, ingested), []
                    pending.append((ts, message))
                last_id = rows[-1][0]
            if key is not None:
                self._insert_runs(*key[:2], pending, key[2])
            self._db.execute("DROP TABLE log_events")


def _order(event: LogEvent) -> EventPosition:
    return event.timestamp, event.event_id


def _prefix_args(prefix: str | None) -> tuple[int, str]:
    """Arguments of `substr(column, 1, ?) = ?`: a case-sensitive prefix match (LIKE ignores case)."""
    return len(prefix or ""), prefix or ""
