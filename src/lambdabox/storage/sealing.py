"""The master key: what seals every secret the stores keep in the SQLite database.

KMS key material (and through it secret values, SecureString parameters and encrypted environment
variables), IAM users' secret access keys and STS sessions' secret keys and tokens are written sealed with
AES-256-GCM (`core/kms/crypto.py`'s blob format) under one 256-bit master key that never enters the
database. The key comes from `LAMBDABOX_MASTER_KEY` (base64 of 32 bytes) or from a key file (default
`<data_dir>/master.key`, base64, created 0600 on first start; `LAMBDABOX_MASTER_KEY_FILE` moves it).

Each sealed value is bound to its row (`{"table", "id"}` as authenticated context), so a blob copied to
another row does not open. The database records the master key's id (a hash of the key, never the key):
starting with a different key is refused instead of failing on first use. `rotate` re-seals every
column named in `SEALED` under a new key (`lambdabox rotate-master-key`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lambdabox.core.kms import crypto
from lambdabox.storage.sqlite import Database

FILE_NAME = "master.key"
_ID_SALT = b"lambdabox master key id\x00"

SCHEMA = "CREATE TABLE IF NOT EXISTS master_key (id INTEGER PRIMARY KEY CHECK (id = 1), key_id TEXT NOT NULL)"


class MasterKeyError(Exception):
    """The master key is missing, malformed, exposed or not the one the data dir was sealed with."""


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed blobs, each bound to its row's `id_column` value."""

    table: str
    id_column: str
    column: str


@dataclass(frozen=True)
class MasterKey:
    material: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        """A public name for the key (a hash of it): recorded in the database, written in every blob."""
        return str(uuid.UUID(bytes=hashlib.sha256(_ID_SALT + self.material).digest()[:16]))

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(crypto.new_material())

    @classmethod
    def from_text(cls, text: str, source: str) -> MasterKey:
        try:
            material = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise MasterKeyError(f"{source} is not base64") from None
        if len(material) != 32:
            raise MasterKeyError(f"{source} must be 32 bytes (base64), not {len(material)}")
        return cls(material)

    def text(self) -> str:
        return base64.b64encode(self.material).decode()

    def seal(self, plaintext: bytes, table: str, row_id: str) -> bytes:
        return crypto.seal(self.key_id, self.material, plaintext, {"table": table, "id": row_id})

    def open(self, blob: bytes, table: str, row_id: str) -> bytes:
        """The plaintext of `blob`; `crypto.BadCiphertext` if it was not sealed by this key for this row."""
        if crypto.key_of(blob) != self.key_id:
            raise crypto.BadCiphertext
        return crypto.unseal(self.material, blob, {"table": table, "id": row_id})

    def is_sealed(self, value: bytes) -> bool:
        """Is `value` a blob of ours (as opposed to plaintext written before sealing existed)?"""
        try:
            return crypto.key_of(value) == self.key_id
        except crypto.BadCiphertext:
            return False


def key_file(data_dir: Path, configured: Path | None) -> Path:
    return configured if configured is not None else data_dir / FILE_NAME


def read_key_file(path: Path) -> MasterKey:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyError(
            f"master key file {path} is accessible to other users (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}`"
        )
    return MasterKey.from_text(path.read_text(), str(path))


def write_key_file(path: Path, key: MasterKey) -> None:
    """Write `key` to `path` atomically, 0600 from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.text() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load(db: Database, data_dir: Path, from_env: str | None, configured_file: Path | None) -> MasterKey:
    """The master key of `db`: `LAMBDABOX_MASTER_KEY`, else the key file (created on first start)."""
    if from_env:
        key = MasterKey.from_text(from_env, "LAMBDABOX_MASTER_KEY")
        _bind(db, key)
        return key
    path = key_file(data_dir, configured_file)
    pending = pending_file(path)
    if pending.exists():  # a rotation stopped: the database holds either the old key or the new one
        new = read_key_file(pending)
        if _recorded(db) == new.key_id:
            os.replace(pending, path)
            return new
        pending.unlink()
    if path.exists():
        key = read_key_file(path)
    else:
        key = MasterKey.generate()
        write_key_file(path, key)
    _bind(db, key)
    return key


def pending_file(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def _recorded(db: Database) -> str | None:
    db.execute(SCHEMA)
    rows = db.execute("SELECT key_id FROM master_key WHERE id = 1")
    return str(rows[0][0]) if rows else None


def _bind(db: Database, key: MasterKey) -> None:
    """Check that `db` was sealed with `key` (recording it on a new database); refuse another key."""
    with db.transaction():
        recorded = _recorded(db)
        if recorded is None:
            db.execute("INSERT INTO master_key (id, key_id) VALUES (1, ?)", (key.key_id,))
        elif recorded != key.key_id:
            raise MasterKeyError(
                f"the data dir was sealed with master key {recorded}, not the one given ({key.key_id}): "
                "start with the original LAMBDABOX_MASTER_KEY or master.key"
            )


def scrub(db: Database) -> None:
    """After plaintext rows were re-written sealed: leave no copy in free pages or in the WAL."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def rotate(db: Database, old: MasterKey, new: MasterKey, columns: Iterable[SealedColumn]) -> int:
    """Re-seal every blob of `columns` from `old` to `new` in one transaction; the number re-sealed."""
    count = 0
    with db.transaction():
        recorded = _recorded(db)
        if recorded is not None and recorded != old.key_id:
            raise MasterKeyError(f"the data dir is sealed with master key {recorded}, not {old.key_id}")
        for sealed in columns:
            select = f"SELECT {sealed.id_column}, {sealed.column} FROM {sealed.table}"
            update = f"UPDATE {sealed.table} SET {sealed.column} = ? WHERE {sealed.id_column} = ?"
            for row_id, blob in db.execute(select):
                if blob is None:
                    continue
                plaintext = old.open(bytes(blob), sealed.table, row_id)
                db.execute(update, (new.seal(plaintext, sealed.table, row_id), row_id))
                count += 1
        db.execute(
            "INSERT INTO master_key (id, key_id) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET key_id = ?",
            (new.key_id, new.key_id),
        )
    return count
