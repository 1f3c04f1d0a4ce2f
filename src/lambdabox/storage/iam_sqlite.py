"""IAM identities, customer managed policies, access keys and STS sessions in the shared SQLite database.

Users, groups, roles and policies are one JSON document each in `iam_entities`, keyed by kind and by the
lower-cased name (ARN for policies); access keys and sessions have their own tables, indexed by what they
are looked up by (a user's keys; a principal's newest session).
"""

from __future__ import annotations

from typing import TypeVar

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
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS iam_entities (
    kind TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS iam_access_keys (
    id TEXT PRIMARY KEY, user_name TEXT NOT NULL, created REAL NOT NULL, doc BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS iam_access_keys_by_user ON iam_access_keys (user_name, created);
CREATE TABLE IF NOT EXISTS iam_sessions (
    id TEXT PRIMARY KEY, principal TEXT NOT NULL, expiration REAL NOT NULL, issued INTEGER NOT NULL,
    doc BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS iam_sessions_by_principal ON iam_sessions (principal, issued);
"""

E = TypeVar("E")
_encode = msgspec.json.encode


class SqliteIamStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)

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
        rows = self._db.execute("SELECT doc FROM iam_access_keys WHERE id = ?", (access_key_id,))
        return msgspec.json.decode(rows[0][0], type=AccessKeyRecord) if rows else None

    def list_access_keys(self, user_name: str) -> list[AccessKeyRecord]:
        rows = self._db.execute(
            "SELECT doc FROM iam_access_keys WHERE user_name = ? ORDER BY created", (user_name,)
        )
        return [msgspec.json.decode(row[0], type=AccessKeyRecord) for row in rows]

    def put_access_key(self, key: AccessKeyRecord) -> None:
        self._db.execute(
            "INSERT INTO iam_access_keys (id, user_name, created, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET user_name = excluded.user_name, doc = excluded.doc",
            (key.access_key_id, key.user_name, key.created, _encode(key)),
        )

    def delete_access_key(self, access_key_id: str) -> None:
        self._db.execute("DELETE FROM iam_access_keys WHERE id = ?", (access_key_id,))

    # -- STS sessions ------------------------------------------------------------------------------------
    def get_session(self, access_key_id: str) -> Session | None:
        rows = self._db.execute("SELECT doc FROM iam_sessions WHERE id = ?", (access_key_id,))
        return msgspec.json.decode(rows[0][0], type=Session) if rows else None

    def put_session(self, session: Session) -> None:
        with self._db.transaction():
            issued = self._db.execute("SELECT coalesce(max(issued), 0) + 1 FROM iam_sessions")[0][0]
            self._db.execute(
                "INSERT INTO iam_sessions (id, principal, expiration, issued, doc) VALUES (?, ?, ?, ?, ?)",
                (session.access_key_id, session.principal_arn, session.expiration, issued, _encode(session)),
            )

    def latest_session(self, principal_arn: str, now: float) -> Session | None:
        rows = self._db.execute(
            "SELECT doc FROM iam_sessions WHERE principal = ? AND expiration > ? ORDER BY issued DESC LIMIT 1",
            (principal_arn, now),
        )
        return msgspec.json.decode(rows[0][0], type=Session) if rows else None

    def delete_sessions_before(self, now: float) -> None:
        self._db.execute("DELETE FROM iam_sessions WHERE expiration <= ?", (now,))
