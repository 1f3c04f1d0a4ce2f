"""EventBridge buses, rules and targets in the shared SQLite database, with each scheduled rule's next fire.

The scheduler commits a rule's new `next_fire` in the same transaction as the asynchronous invocations of
that fire: the event queue lives in this database too, so a fire is either queued and settled or neither.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from lambdabox.core.events.models import EventBus, Rule, Target
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS events_buses (name TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS events_rules (
    bus TEXT NOT NULL, name TEXT NOT NULL, doc BLOB NOT NULL, next_fire REAL,
    PRIMARY KEY (bus, name));
CREATE INDEX IF NOT EXISTS events_rules_due ON events_rules (next_fire) WHERE next_fire IS NOT NULL;
CREATE TABLE IF NOT EXISTS events_targets (
    bus TEXT NOT NULL, rule TEXT NOT NULL, id TEXT NOT NULL, arn TEXT NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (bus, rule, id));
CREATE INDEX IF NOT EXISTS events_targets_by_arn ON events_targets (bus, arn);
"""

_encode = msgspec.json.encode
_bus = msgspec.json.Decoder(EventBus)
_rule = msgspec.json.Decoder(Rule)
_target = msgspec.json.Decoder(Target)


class SqliteEventsStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)

    # -- buses -----------------------------------------------------------------------------------------
    def get_bus(self, name: str) -> EventBus | None:
        rows = self._db.execute("SELECT doc FROM events_buses WHERE name = ?", (name,))
        return _bus.decode(rows[0][0]) if rows else None

    def list_buses(self) -> list[EventBus]:
        return [_bus.decode(row[0]) for row in self._db.execute("SELECT doc FROM events_buses ORDER BY name")]

    def put_bus(self, bus: EventBus) -> None:
        self._db.execute(
            "INSERT INTO events_buses (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc",
            (bus.name, _encode(bus)),
        )

    def delete_bus(self, name: str) -> None:
        with self._db.transaction():
            self._db.execute("DELETE FROM events_targets WHERE bus = ?", (name,))
            self._db.execute("DELETE FROM events_rules WHERE bus = ?", (name,))
            self._db.execute("DELETE FROM events_buses WHERE name = ?", (name,))

    # -- rules -----------------------------------------------------------------------------------------
    def get_rule(self, bus: str, name: str) -> Rule | None:
        rows = self._db.execute("SELECT doc FROM events_rules WHERE bus = ? AND name = ?", (bus, name))
        return _rule.decode(rows[0][0]) if rows else None

    def list_rules(self, bus: str) -> list[Rule]:
        rows = self._db.execute("SELECT doc FROM events_rules WHERE bus = ? ORDER BY name", (bus,))
        return [_rule.decode(row[0]) for row in rows]

    def count_rules(self, bus: str) -> int:
        return int(self._db.execute("SELECT count(*) FROM events_rules WHERE bus = ?", (bus,))[0][0])

    def put_rule(self, rule: Rule, next_fire: float | None) -> None:
        self._db.execute(
            "INSERT INTO events_rules (bus, name, doc, next_fire) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(bus, name) DO UPDATE SET doc = excluded.doc, next_fire = excluded.next_fire",
            (rule.bus, rule.name, _encode(rule), next_fire),
        )

    def delete_rule(self, bus: str, name: str) -> None:
        with self._db.transaction():
            self._db.execute("DELETE FROM events_targets WHERE bus = ? AND rule = ?", (bus, name))
            self._db.execute("DELETE FROM events_rules WHERE bus = ? AND name = ?", (bus, name))

    # -- targets ---------------------------------------------------------------------------------------
    def list_targets(self, bus: str, rule: str) -> list[Target]:
        rows = self._db.execute(
            "SELECT doc FROM events_targets WHERE bus = ? AND rule = ? ORDER BY id", (bus, rule)
        )
        return [_target.decode(row[0]) for row in rows]

    def put_targets(self, bus: str, rule: str, targets: Sequence[Target]) -> None:
        self._db.executemany(
            "INSERT INTO events_targets (bus, rule, id, arn, doc) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(bus, rule, id) DO UPDATE SET arn = excluded.arn, doc = excluded.doc",
            [(bus, rule, t.id, t.arn, _encode(t)) for t in targets],
        )

    def delete_targets(self, bus: str, rule: str, ids: Sequence[str]) -> None:
        self._db.executemany(
            "DELETE FROM events_targets WHERE bus = ? AND rule = ? AND id = ?", [(bus, rule, i) for i in ids]
        )

    def rules_with_target(self, bus: str, arn: str) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT rule FROM events_targets WHERE bus = ? AND arn = ? ORDER BY rule", (bus, arn)
        )
        return [str(row[0]) for row in rows]

    # -- schedules -------------------------------------------------------------------------------------
    def next_fire(self, bus: str, name: str) -> float | None:
        rows = self._db.execute("SELECT next_fire FROM events_rules WHERE bus = ? AND name = ?", (bus, name))
        return None if not rows or rows[0][0] is None else float(rows[0][0])

    def set_next_fire(self, bus: str, name: str, next_fire: float | None) -> None:
        self._db.execute(
            "UPDATE events_rules SET next_fire = ? WHERE bus = ? AND name = ?", (next_fire, bus, name)
        )

    def due_rules(self, now: float) -> list[tuple[Rule, float]]:
        rows = self._db.execute(
            "SELECT doc, next_fire FROM events_rules WHERE next_fire IS NOT NULL AND next_fire <= ? "
            "ORDER BY next_fire",
            (now,),
        )
        return [(_rule.decode(row[0]), float(row[1])) for row in rows]

    def scheduled_rules(self) -> list[tuple[Rule, float]]:
        rows = self._db.execute(
            "SELECT doc, next_fire FROM events_rules WHERE next_fire IS NOT NULL ORDER BY next_fire"
        )
        return [(_rule.decode(row[0]), float(row[1])) for row in rows]

    def next_due(self) -> float | None:
        rows = self._db.execute("SELECT min(next_fire) FROM events_rules")
        return None if rows[0][0] is None else float(rows[0][0])
