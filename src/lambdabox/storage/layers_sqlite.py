"""Layer versions in the shared SQLite database: one row per version (deleted ones kept, flagged, for the
functions that still use their content) and one per layer holding its last version number."""

from __future__ import annotations

import msgspec

from lambdabox.core.layers.models import LayerVersion
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS layers (name TEXT PRIMARY KEY, last_version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS layer_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (name, version));
"""

_encode = msgspec.json.encode
_decode = msgspec.json.Decoder(LayerVersion).decode


class SqliteLayerStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)

    def next_version(self, name: str) -> int:
        with self._db.transaction():
            rows = self._db.execute(
                "INSERT INTO layers (name, last_version) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET last_version = last_version + 1 RETURNING last_version",
                (name,),
            )
        return int(rows[0][0])

    def put(self, version: LayerVersion) -> None:
        self._db.execute(
            "INSERT INTO layer_versions (name, version, deleted, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name, version) DO UPDATE SET deleted = excluded.deleted, doc = excluded.doc",
            (version.name, version.version, int(version.deleted), _encode(version)),
        )

    def get(self, name: str, version: int) -> LayerVersion | None:
        rows = self._db.execute(
            "SELECT doc FROM layer_versions WHERE name = ? AND version = ?", (name, version)
        )
        return _decode(rows[0][0]) if rows else None

    def list_versions(self, name: str) -> list[LayerVersion]:
        rows = self._db.execute(
            "SELECT doc FROM layer_versions WHERE name = ? AND deleted = 0 ORDER BY version DESC", (name,)
        )
        return [_decode(row[0]) for row in rows]

    def list_names(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT name FROM layer_versions WHERE deleted = 0 ORDER BY name")
        return [str(row[0]) for row in rows]
