"""Parameter Store parameters (with every version kept) in the shared SQLite database."""

from __future__ import annotations

import msgspec

from lambdabox.core.parameters.models import Parameter
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS ssm_parameters (name TEXT PRIMARY KEY, tier TEXT NOT NULL, doc BLOB NOT NULL);
"""

_encode = msgspec.json.encode
_parameter = msgspec.json.Decoder(Parameter)


class SqliteParameterStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)

    def get(self, name: str) -> Parameter | None:
        rows = self._db.execute("SELECT doc FROM ssm_parameters WHERE name = ?", (name,))
        return _parameter.decode(rows[0][0]) if rows else None

    def list(self, prefix: str = "") -> list[Parameter]:
        rows = self._db.execute(
            "SELECT doc FROM ssm_parameters WHERE substr(name, 1, ?) = ? ORDER BY name", (len(prefix), prefix)
        )
        return [_parameter.decode(row[0]) for row in rows]

    def put(self, parameter: Parameter, tier: str) -> None:
        self._db.execute(
            "INSERT INTO ssm_parameters (name, tier, doc) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET tier = excluded.tier, doc = excluded.doc",
            (parameter.name, tier, _encode(parameter)),
        )

    def delete(self, name: str) -> None:
        self._db.execute("DELETE FROM ssm_parameters WHERE name = ?", (name,))

    def count(self, tier: str) -> int:
        return int(self._db.execute("SELECT count(*) FROM ssm_parameters WHERE tier = ?", (tier,))[0][0])
