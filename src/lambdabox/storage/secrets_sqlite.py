"""Secrets Manager secrets in the shared SQLite database: one row per secret, its versions encrypted by KMS."""

from __future__ import annotations

import msgspec

from lambdabox.core.secrets.models import Secret
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY, arn TEXT NOT NULL UNIQUE, created REAL NOT NULL, purge_at REAL, rotate_at REAL,
    doc BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS secrets_purge ON secrets (purge_at) WHERE purge_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS secrets_rotate ON secrets (rotate_at) WHERE rotate_at IS NOT NULL;
"""

_encode = msgspec.json.encode
_secret = msgspec.json.Decoder(Secret)


class SqliteSecretsStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)

    def get(self, name: str) -> Secret | None:
        rows = self._db.execute("SELECT doc FROM secrets WHERE name = ?", (name,))
        return _secret.decode(rows[0][0]) if rows else None

    def get_by_arn(self, arn: str) -> Secret | None:
        rows = self._db.execute("SELECT doc FROM secrets WHERE arn = ?", (arn,))
        return _secret.decode(rows[0][0]) if rows else None

    def list_all(self) -> list[Secret]:
        return [
            _secret.decode(row[0]) for row in self._db.execute("SELECT doc FROM secrets ORDER BY created")
        ]

    def put(self, secret: Secret, rotate_at: float | None) -> None:
        self._db.execute(
            "INSERT INTO secrets (name, arn, created, purge_at, rotate_at, doc) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET purge_at = excluded.purge_at, rotate_at = excluded.rotate_at, "
            "doc = excluded.doc",
            (secret.name, secret.arn, secret.created, secret.purge_at, rotate_at, _encode(secret)),
        )

    def delete(self, name: str) -> None:
        self._db.execute("DELETE FROM secrets WHERE name = ?", (name,))

    def purge(self, now: float) -> None:
        self._db.execute("DELETE FROM secrets WHERE purge_at IS NOT NULL AND purge_at <= ?", (now,))

    def due_rotations(self, now: float) -> list[Secret]:
        rows = self._db.execute(
            "SELECT doc FROM secrets WHERE rotate_at IS NOT NULL AND rotate_at <= ? ORDER BY rotate_at",
            (now,),
        )
        return [_secret.decode(row[0]) for row in rows]
