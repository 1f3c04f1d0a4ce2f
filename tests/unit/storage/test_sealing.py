"""The master key: sealing, binding a database to its key, migrating plaintext rows, rotation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import msgspec
import pytest

from lambdabox.core.iam.entities import AccessKeyRecord, Session
from lambdabox.core.kms import crypto
from lambdabox.core.kms.models import KmsKey
from lambdabox.storage import iam_sqlite, kms_sqlite, sealing
from lambdabox.storage.iam_sqlite import SqliteIamStore
from lambdabox.storage.kms_sqlite import SqliteKmsStore
from lambdabox.storage.sealing import MasterKey, MasterKeyError
from lambdabox.storage.sqlite import Database

KEY_ID = "0b7c4a52-6f44-4f0e-8d47-6d6f2b0f3a11"
MATERIAL = b"M" * 32
USER_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYUSERSECRET"
SESSION_SECRET = "sessionSecretKeyThatMustNeverBeStoredXX"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjSESSIONTOKENVALUE"


def all_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_seal_and_open_are_bound_to_key_and_row() -> None:
    key = MasterKey.generate()
    blob = key.seal(b"secret", "t", "row-1")
    assert b"secret" not in blob and key.is_sealed(blob)
    assert key.open(blob, "t", "row-1") == b"secret"
    with pytest.raises(crypto.BadCiphertext):
        key.open(blob, "t", "row-2")  # moved to another row
    with pytest.raises(crypto.BadCiphertext):
        MasterKey.generate().open(blob, "t", "row-1")
    assert not key.is_sealed(MATERIAL)
    assert key.text() not in repr(key)


def test_key_text_is_validated() -> None:
    with pytest.raises(MasterKeyError, match="base64"):
        MasterKey.from_text("not base64!", "LAMBDABOX_MASTER_KEY")
    with pytest.raises(MasterKeyError, match="32 bytes"):
        MasterKey.from_text("c2hvcnQ=", "LAMBDABOX_MASTER_KEY")
    key = MasterKey.generate()
    assert MasterKey.from_text(key.text(), "x") == key


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    db = Database(tmp_path / "lambdabox.db")
    first = sealing.load(db, tmp_path, None, None)
    path = tmp_path / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sealing.load(db, tmp_path, None, None) == first
    elsewhere = tmp_path / "keys" / "lb.key"
    other_db = Database(tmp_path / "other.db")
    assert sealing.load(other_db, tmp_path, None, elsewhere) != first and elsewhere.exists()
    os.chmod(path, 0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        sealing.load(db, tmp_path, None, None)


def test_a_database_refuses_another_master_key(tmp_path: Path) -> None:
    db = Database(tmp_path / "lambdabox.db")
    key = MasterKey.generate()
    sealing.load(db, tmp_path, key.text(), None)
    with pytest.raises(MasterKeyError, match="sealed with master key"):
        sealing.load(db, tmp_path, MasterKey.generate().text(), None)
    assert sealing.load(db, tmp_path, key.text(), None) == key


def old_database(path: Path) -> None:
    """A database as written before sealing: plaintext material and secrets."""
    db = Database(path)
    db.execute(
        "CREATE TABLE kms_keys (id TEXT PRIMARY KEY, created REAL NOT NULL, deletion_date REAL, "
        "doc BLOB NOT NULL, material BLOB NOT NULL)"
    )
    key = KmsKey(key_id=KEY_ID, created=1.0)
    db.execute(
        "INSERT INTO kms_keys VALUES (?, 1.0, NULL, ?, ?)", (KEY_ID, msgspec.json.encode(key), MATERIAL)
    )
    db.execute(
        "CREATE TABLE iam_access_keys (id TEXT PRIMARY KEY, user_name TEXT NOT NULL, created REAL NOT NULL, "
        "doc BLOB NOT NULL)"
    )
    record = AccessKeyRecord("AKIAOLD", USER_SECRET, "dave", created=1.0)
    db.execute(
        "INSERT INTO iam_access_keys VALUES ('AKIAOLD', 'dave', 1.0, ?)", (msgspec.json.encode(record),)
    )
    db.execute(
        "CREATE TABLE iam_sessions (id TEXT PRIMARY KEY, principal TEXT NOT NULL, expiration REAL NOT NULL, "
        "issued INTEGER NOT NULL, doc BLOB NOT NULL)"
    )
    session = Session("ASIAOLD", SESSION_SECRET, SESSION_TOKEN, "arn:p", expiration=9e9)
    db.execute(
        "INSERT INTO iam_sessions VALUES ('ASIAOLD', 'arn:p', 9e9, 1, ?)", (msgspec.json.encode(session),)
    )
    db.close()


def test_plaintext_rows_from_before_sealing_are_sealed_and_scrubbed(tmp_path: Path) -> None:
    old_database(tmp_path / "lambdabox.db")
    assert MATERIAL in all_bytes(tmp_path) and USER_SECRET.encode() in all_bytes(tmp_path)
    db = Database(tmp_path / "lambdabox.db")
    master = sealing.load(db, tmp_path, None, None)
    kms = SqliteKmsStore(db, master)
    iam = SqliteIamStore(db, master)
    assert kms.key_material(KEY_ID) == MATERIAL
    key = iam.get_access_key("AKIAOLD")
    assert key is not None and key.secret_access_key == USER_SECRET
    session = iam.get_session("ASIAOLD")
    assert session is not None and (session.secret_access_key, session.session_token) == (
        SESSION_SECRET,
        SESSION_TOKEN,
    )
    iam.put_access_key(
        AccessKeyRecord("AKIANEW", "another-secret-value-000000000000000", "dave", created=2.0)
    )
    db.close()
    stored = all_bytes(tmp_path)
    for secret in (MATERIAL, USER_SECRET.encode(), SESSION_SECRET.encode(), SESSION_TOKEN.encode()):
        assert secret not in stored
    assert b"another-secret-value" not in stored


def test_rotation_reseals_everything_under_the_new_key(tmp_path: Path) -> None:
    old_database(tmp_path / "lambdabox.db")
    db = Database(tmp_path / "lambdabox.db")
    old = sealing.load(db, tmp_path, None, None)
    SqliteKmsStore(db, old)
    SqliteIamStore(db, old)
    new = MasterKey.generate()
    assert sealing.rotate(db, old, new, kms_sqlite.SEALED + iam_sqlite.SEALED) == 3
    with pytest.raises(MasterKeyError):
        sealing.load(db, tmp_path, old.text(), None)
    assert SqliteKmsStore(db, new).key_material(KEY_ID) == MATERIAL
    key = SqliteIamStore(db, new).get_access_key("AKIAOLD")
    assert key is not None and key.secret_access_key == USER_SECRET


def test_an_interrupted_rotation_is_finished_or_undone_on_start(tmp_path: Path) -> None:
    db = Database(tmp_path / "lambdabox.db")
    old = sealing.load(db, tmp_path, None, None)
    path, pending = tmp_path / "master.key", tmp_path / "master.key.new"
    new = MasterKey.generate()
    sealing.write_key_file(pending, new)  # stopped before the database was re-sealed
    assert sealing.load(db, tmp_path, None, None) == old and not pending.exists()
    sealing.write_key_file(pending, new)
    sealing.rotate(db, old, new, ())  # stopped after: the file is replaced on start
    assert sealing.load(db, tmp_path, None, None) == new and not pending.exists()
    assert sealing.read_key_file(path) == new
