"""EventBridge Scheduler groups and schedules in the shared SQLite database, with each schedule's next fire.

The event queue lives in this database too, so a fire settles its schedule (next fire or deletion) and
queues its invocation in one transaction: either both happen or neither.
"""

from __future__ import annotations

from typing import Any

import msgspec

from lambdabox.core.scheduler.models import NextFire, PendingDelivery, Schedule, ScheduleGroup
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS scheduler_groups (name TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS scheduler_schedules (
    grp TEXT NOT NULL, name TEXT NOT NULL, doc BLOB NOT NULL, next_due REAL, next_at REAL,
    PRIMARY KEY (grp, name));
CREATE INDEX IF NOT EXISTS scheduler_schedules_due ON scheduler_schedules (next_at) WHERE next_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS scheduler_retries (id TEXT PRIMARY KEY, doc BLOB NOT NULL, not_before REAL NOT NULL);
CREATE INDEX IF NOT EXISTS scheduler_retries_due ON scheduler_retries (not_before);
"""

_encode = msgspec.json.encode
_group = msgspec.json.Decoder(ScheduleGroup)
_schedule = msgspec.json.Decoder(Schedule)
_pending = msgspec.json.Decoder(PendingDelivery)


def _next(row: tuple[Any, ...]) -> NextFire | None:
    return None if row[0] is None else NextFire(float(row[0]), float(row[1]))


class SqliteSchedulerStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)

    # -- groups ----------------------------------------------------------------------------------------
    def get_group(self, name: str) -> ScheduleGroup | None:
        rows = self._db.execute("SELECT doc FROM scheduler_groups WHERE name = ?", (name,))
        return _group.decode(rows[0][0]) if rows else None

    def list_groups(self) -> list[ScheduleGroup]:
        rows = self._db.execute("SELECT doc FROM scheduler_groups ORDER BY name")
        return [_group.decode(row[0]) for row in rows]

    def put_group(self, group: ScheduleGroup) -> None:
        self._db.execute(
            "INSERT INTO scheduler_groups (name, doc) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET doc = excluded.doc",
            (group.name, _encode(group)),
        )

    def delete_group(self, name: str) -> None:
        with self._db.transaction():
            self._db.execute("DELETE FROM scheduler_schedules WHERE grp = ?", (name,))
            self._db.execute("DELETE FROM scheduler_groups WHERE name = ?", (name,))

    # -- schedules -------------------------------------------------------------------------------------
    def get_schedule(self, group: str, name: str) -> Schedule | None:
        rows = self._db.execute(
            "SELECT doc FROM scheduler_schedules WHERE grp = ? AND name = ?", (group, name)
        )
        return _schedule.decode(rows[0][0]) if rows else None

    def list_schedules(self, group: str | None) -> list[Schedule]:
        if group is None:
            rows = self._db.execute("SELECT doc FROM scheduler_schedules ORDER BY grp, name")
        else:
            rows = self._db.execute(
                "SELECT doc FROM scheduler_schedules WHERE grp = ? ORDER BY name", (group,)
            )
        return [_schedule.decode(row[0]) for row in rows]

    def put_schedule(self, schedule: Schedule, next_fire: NextFire | None) -> None:
        self._db.execute(
            "INSERT INTO scheduler_schedules (grp, name, doc, next_due, next_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(grp, name) DO UPDATE SET doc = excluded.doc, next_due = excluded.next_due, "
            "next_at = excluded.next_at",
            (
                schedule.group,
                schedule.name,
                _encode(schedule),
                None if next_fire is None else next_fire.due,
                None if next_fire is None else next_fire.at,
            ),
        )

    def delete_schedule(self, group: str, name: str) -> None:
        self._db.execute("DELETE FROM scheduler_schedules WHERE grp = ? AND name = ?", (group, name))

    def next_fire(self, group: str, name: str) -> NextFire | None:
        rows = self._db.execute(
            "SELECT next_due, next_at FROM scheduler_schedules WHERE grp = ? AND name = ?", (group, name)
        )
        return _next(rows[0]) if rows else None

    def set_next_fire(self, group: str, name: str, next_fire: NextFire | None) -> None:
        self._db.execute(
            "UPDATE scheduler_schedules SET next_due = ?, next_at = ? WHERE grp = ? AND name = ?",
            (
                None if next_fire is None else next_fire.due,
                None if next_fire is None else next_fire.at,
                group,
                name,
            ),
        )

    def due_schedules(self, now: float) -> list[tuple[Schedule, NextFire]]:
        rows = self._db.execute(
            "SELECT doc, next_due, next_at FROM scheduler_schedules "
            "WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at",
            (now,),
        )
        return [(_schedule.decode(row[0]), NextFire(float(row[1]), float(row[2]))) for row in rows]

    def scheduled(self) -> list[tuple[Schedule, NextFire]]:
        rows = self._db.execute(
            "SELECT doc, next_due, next_at FROM scheduler_schedules WHERE next_at IS NOT NULL "
            "ORDER BY next_at"
        )
        return [(_schedule.decode(row[0]), NextFire(float(row[1]), float(row[2]))) for row in rows]

    def next_due(self) -> float | None:
        rows = self._db.execute("SELECT min(next_at) FROM scheduler_schedules")
        return None if rows[0][0] is None else float(rows[0][0])

    # -- deliveries waiting for a retry ----------------------------------------------------------------
    def put_retry(self, pending: PendingDelivery) -> None:
        self._db.execute(
            "INSERT INTO scheduler_retries (id, doc, not_before) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, not_before = excluded.not_before",
            (pending.execution_id, _encode(pending), pending.not_before),
        )

    def delete_retry(self, execution_id: str) -> None:
        self._db.execute("DELETE FROM scheduler_retries WHERE id = ?", (execution_id,))

    def due_retries(self, now: float) -> list[PendingDelivery]:
        rows = self._db.execute(
            "SELECT doc FROM scheduler_retries WHERE not_before <= ? ORDER BY not_before", (now,)
        )
        return [_pending.decode(row[0]) for row in rows]

    def next_retry(self) -> float | None:
        rows = self._db.execute("SELECT min(not_before) FROM scheduler_retries")
        return None if rows[0][0] is None else float(rows[0][0])
