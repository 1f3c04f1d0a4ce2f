"""KMS keys and aliases in the shared SQLite database; each key's material is sealed with the master key.

Material written before sealing existed (32 plaintext bytes) is sealed when the store is built.
"""

from __future__ import annotations

import msgspec

from lambdabox.core.kms.models import KmsAlias, KmsKey
from lambdabox.storage.sealing import MasterKey, SealedColumn, scrub
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS kms_keys (
    id TEXT PRIMARY KEY, created REAL NOT NULL, deletion_date REAL, doc BLOB NOT NULL, material BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS kms_keys_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
CREATE TABLE IF NOT EXISTS kms_aliases (name TEXT PRIMARY KEY, key_id TEXT NOT NULL, doc BLOB NOT NULL);
"""

SEALED = (SealedColumn("kms_keys", "id", "material"),)
_TABLE = "kms_keys"

_encode = msgspec.json.encode
_key = msgspec.json.Decoder(KmsKey)
_alias = msgspec.json.Decoder(KmsAlias)


class SqliteKmsStore(SqliteStore):
    def __init__(self, db: Database, master: MasterKey) -> None:
        super().__init__(db, SCHEMA)
        self._master = master
        self._seal_plaintext_rows()

    def _seal_plaintext_rows(self) -> None:
        rows = self._db.execute("SELECT id, material FROM kms_keys WHERE length(material) = 32")
        if not rows:
            return
        with self._db.transaction():
            for key_id, material in rows:
                sealed = self._master.seal(bytes(material), _TABLE, key_id)
                self._db.execute("UPDATE kms_keys SET material = ? WHERE id = ?", (sealed, key_id))
        scrub(self._db)

    def get_key(self, key_id: str) -> KmsKey | None:
        rows = self._db.execute("SELECT doc FROM kms_keys WHERE id = ?", (key_id,))
        return _key.decode(rows[0][0]) if rows else None

    def key_material(self, key_id: str) -> bytes | None:
        rows = self._db.execute("SELECT material FROM kms_keys WHERE id = ?", (key_id,))
        return self._master.open(bytes(rows[0][0]), _TABLE, key_id) if rows else None

    def list_keys(self) -> list[KmsKey]:
        return [
            _key.decode(row[0]) for row in self._db.execute("SELECT doc FROM kms_keys ORDER BY created, id")
        ]

    def put_key(self, key: KmsKey, material: bytes | None = None) -> None:
        if material is not None:
            self._db.execute(
                "INSERT INTO kms_keys (id, created, deletion_date, doc, material) VALUES (?, ?, ?, ?, ?)",
                (
                    key.key_id,
                    key.created,
                    key.deletion_date,
                    _encode(key),
                    self._master.seal(material, _TABLE, key.key_id),
                ),
            )
        else:
            self._db.execute(
                "UPDATE kms_keys SET deletion_date = ?, doc = ? WHERE id = ?",
                (key.deletion_date, _encode(key), key.key_id),
            )

    def purge(self, now: float) -> None:
        due = "SELECT id FROM kms_keys WHERE deletion_date IS NOT NULL AND deletion_date <= ?"
        if not self._db.execute(due, (now,)):
            return
        with self._db.transaction():
            self._db.execute(f"DELETE FROM kms_aliases WHERE key_id IN ({due})", (now,))
            self._db.execute(
                "DELETE FROM kms_keys WHERE deletion_date IS NOT NULL AND deletion_date <= ?", (now,)
            )

    def get_alias(self, name: str) -> KmsAlias | None:
        rows = self._db.execute("SELECT doc FROM kms_aliases WHERE name = ?", (name,))
        return _alias.decode(rows[0][0]) if rows else None

    def list_aliases(self) -> list[KmsAlias]:
        return [
            _alias.decode(row[0]) for row in self._db.execute("SELECT doc FROM kms_aliases ORDER BY name")
        ]

    def put_alias(self, alias: KmsAlias) -> None:
        self._db.execute(
            "INSERT INTO kms_aliases (name, key_id, doc) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET key_id = excluded.key_id, doc = excluded.doc",
            (alias.name, alias.key_id, _encode(alias)),
        )

    def delete_alias(self, name: str) -> None:
        self._db.execute("DELETE FROM kms_aliases WHERE name = ?", (name,))
