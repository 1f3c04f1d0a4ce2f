"""IAM identities, customer managed policies, access keys and STS sessions in the shared SQLite database.

Users, groups, roles and policies are one JSON document each in `iam_entities`, keyed by kind and by the
lower-cased name (ARN for policies); access keys and sessions have their own tables, indexed by what they
are looked up by (a user's keys; a principal's newest session). Their secrets (a key's secret access key,
a session's secret key and token) are kept apart from the document, sealed with the master key in the
`secret` column; rows written before sealing existed are sealed when the store is built.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

import msgspec

from lambdabox.core.iam.entities import (
    AccessKeyRecord,
    Group,
    InstanceProfile,
    ManagedPolicy,
    Role,
    Session,
    User,
)
from lambdabox.storage.sealing import MasterKey, SealedColumn, scrub
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS iam_entities (
    kind TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS iam_access_keys (
    id TEXT PRIMARY KEY, user_name TEXT NOT NULL, created REAL NOT NULL, doc BLOB NOT NULL, secret BLOB);
CREATE INDEX IF NOT EXISTS iam_access_keys_by_user ON iam_access_keys (user_name, created);
CREATE TABLE IF NOT EXISTS iam_sessions (
    id TEXT PRIMARY KEY, principal TEXT NOT NULL, expiration REAL NOT NULL, issued INTEGER NOT NULL,
    doc BLOB NOT NULL, secret BLOB);
CREATE INDEX IF NOT EXISTS iam_sessions_by_principal ON iam_sessions (principal, issued);
"""

SEALED = (SealedColumn("iam_access_keys", "id", "secret"), SealedColumn("iam_sessions", "id", "secret"))

E = TypeVar("E")
_encode = msgspec.json.encode
_session_secrets = msgspec.json.Decoder(tuple[str, str])


class SqliteIamStore(SqliteStore):
    def __init__(self, db: Database, master: MasterKey) -> None:
        super().__init__(db, SCHEMA)
        self._master = master
        self._seal_plaintext_rows()

    # -- sealing -----------------------------------------------------------------------------------------
    def _seal_plaintext_rows(self) -> None:
        """Tables from before sealing: add the `secret` column, move each plaintext secret into it."""
        migrated = False
        for table in ("iam_access_keys", "iam_sessions"):
            if "secret" not in {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN secret BLOB")
            rows = self._db.execute(f"SELECT id, doc FROM {table} WHERE secret IS NULL")
            with self._db.transaction():
                for row_id, doc in rows:
                    if table == "iam_access_keys":
                        key = msgspec.json.decode(doc, type=AccessKeyRecord)
                        doc, secret = self._seal_key(key)
                    else:
                        session = msgspec.json.decode(doc, type=Session)
                        doc, secret = self._seal_session(session)
                    self._db.execute(
                        f"UPDATE {table} SET doc = ?, secret = ? WHERE id = ?", (doc, secret, row_id)
                    )
                    migrated = True
        if migrated:
            scrub(self._db)

    def _seal_key(self, key: AccessKeyRecord) -> tuple[bytes, bytes]:
        secret = self._master.seal(key.secret_access_key.encode(), "iam_access_keys", key.access_key_id)
        return _encode(replace(key, secret_access_key="")), secret

    def _open_key(self, row: tuple[Any, ...]) -> AccessKeyRecord:
        key = msgspec.json.decode(row[0], type=AccessKeyRecord)
        secret = self._master.open(bytes(row[1]), "iam_access_keys", key.access_key_id).decode()
        return replace(key, secret_access_key=secret)

    def _seal_session(self, session: Session) -> tuple[bytes, bytes]:
        secrets = _encode((session.secret_access_key, session.session_token))
        sealed = self._master.seal(secrets, "iam_sessions", session.access_key_id)
        return _encode(replace(session, secret_access_key="", session_token="")), sealed

    def _open_session(self, row: tuple[Any, ...]) -> Session:
        session = msgspec.json.decode(row[0], type=Session)
        opened = self._master.open(bytes(row[1]), "iam_sessions", session.access_key_id)
        secret, token = _session_secrets.decode(opened)
        return replace(session, secret_access_key=secret, session_token=token)

    # -- entities (one document each) ------------------------------------------------------------------
    def _get(self, kind: str, key: str, type_: type[E]) -> E | None:
        rows = self._db.execute("SELECT doc FROM iam_entities WHERE kind = ? AND key = ?", (kind, key))
        return msgspec.json.decode(rows[0][0], type=type_) if rows else None

    def _list(self, kind: str, type_: type[E]) -> list[E]:
        rows = self._db.execute(
            "SELECT doc FROM iam_entities WHERE kind = ? ORDER BY lower(name), name", (kind,)
        )
        return [msgspec.json.decode(row[0], type=type_) for row in rows]

    def _put(self, kind: str, key: str, name: str, record: object) -> None:
        self._db.execute(
            "INSERT INTO iam_entities (kind, key, name, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(kind, key) DO UPDATE SET name = excluded.name, doc = excluded.doc",
            (kind, key, name, _encode(record)),
        )

    def _delete(self, kind: str, key: str) -> None:
        self._db.execute("DELETE FROM iam_entities WHERE kind = ? AND key = ?", (kind, key))

    def get_user(self, name: str) -> User | None:
        return self._get("user", name.lower(), User)

    def list_users(self) -> list[User]:
        return self._list("user", User)

    def put_user(self, user: User) -> None:
        self._put("user", user.name.lower(), user.name, user)

    def delete_user(self, name: str) -> None:
        self._delete("user", name.lower())

    def get_group(self, name: str) -> Group | None:
        return self._get("group", name.lower(), Group)

    def list_groups(self) -> list[Group]:
        return self._list("group", Group)

    def put_group(self, group: Group) -> None:
        self._put("group", group.name.lower(), group.name, group)

    def delete_group(self, name: str) -> None:
        self._delete("group", name.lower())

    def get_role(self, name: str) -> Role | None:
        return self._get("role", name.lower(), Role)

    def list_roles(self) -> list[Role]:
        return self._list("role", Role)

    def put_role(self, role: Role) -> None:
        self._put("role", role.name.lower(), role.name, role)

    def delete_role(self, name: str) -> None:
        self._delete("role", name.lower())

    def get_instance_profile(self, name: str) -> InstanceProfile | None:
        return self._get("instance-profile", name.lower(), InstanceProfile)

    def list_instance_profiles(self) -> list[InstanceProfile]:
        return self._list("instance-profile", InstanceProfile)

    def put_instance_profile(self, profile: InstanceProfile) -> None:
        self._put("instance-profile", profile.name.lower(), profile.name, profile)

    def delete_instance_profile(self, name: str) -> None:
        self._delete("instance-profile", name.lower())

    def get_policy(self, arn: str) -> ManagedPolicy | None:
        return self._get("policy", arn, ManagedPolicy)

    def list_policies(self) -> list[ManagedPolicy]:
        return self._list("policy", ManagedPolicy)

    def put_policy(self, policy: ManagedPolicy) -> None:
        self._put("policy", policy.arn, policy.name, policy)

    def delete_policy(self, arn: str) -> None:
        self._delete("policy", arn)

    # -- access keys -------------------------------------------------------------------------------------
    def get_access_key(self, access_key_id: str) -> AccessKeyRecord | None:
        rows = self._db.execute("SELECT doc, secret FROM iam_access_keys WHERE id = ?", (access_key_id,))
        return self._open_key(rows[0]) if rows else None

    def list_access_keys(self, user_name: str) -> list[AccessKeyRecord]:
        rows = self._db.execute(
            "SELECT doc, secret FROM iam_access_keys WHERE user_name = ? ORDER BY created", (user_name,)
        )
        return [self._open_key(row) for row in rows]

    def put_access_key(self, key: AccessKeyRecord) -> None:
        doc, secret = self._seal_key(key)
        self._db.execute(
            "INSERT INTO iam_access_keys (id, user_name, created, doc, secret) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET user_name = excluded.user_name, doc = excluded.doc, "
            "secret = excluded.secret",
            (key.access_key_id, key.user_name, key.created, doc, secret),
        )

    def delete_access_key(self, access_key_id: str) -> None:
        self._db.execute("DELETE FROM iam_access_keys WHERE id = ?", (access_key_id,))

    # -- STS sessions ------------------------------------------------------------------------------------
    def get_session(self, access_key_id: str) -> Session | None:
        rows = self._db.execute("SELECT doc, secret FROM iam_sessions WHERE id = ?", (access_key_id,))
        return self._open_session(rows[0]) if rows else None

    def put_session(self, session: Session) -> None:
        doc, secret = self._seal_session(session)
        with self._db.transaction():
            issued = self._db.execute("SELECT coalesce(max(issued), 0) + 1 FROM iam_sessions")[0][0]
            self._db.execute(
                "INSERT INTO iam_sessions (id, principal, expiration, issued, doc, secret) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (session.access_key_id, session.principal_arn, session.expiration, issued, doc, secret),
            )

    def latest_session(self, principal_arn: str, now: float) -> Session | None:
        rows = self._db.execute(
            "SELECT doc, secret FROM iam_sessions WHERE principal = ? AND expiration > ? "
            "ORDER BY issued DESC LIMIT 1",
            (principal_arn, now),
        )
        return self._open_session(rows[0]) if rows else None

    def delete_sessions_before(self, now: float) -> None:
        self._db.execute("DELETE FROM iam_sessions WHERE expiration <= ?", (now,))
