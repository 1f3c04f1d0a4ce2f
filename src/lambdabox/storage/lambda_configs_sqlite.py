"""Code signing configurations and per-function configuration documents in the shared SQLite database."""

from __future__ import annotations

import msgspec

from lambdabox.core.code_signing import CodeSigningConfig
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS code_signing_configs (
    arn TEXT PRIMARY KEY, seq INTEGER NOT NULL, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS function_code_signing (
    function TEXT PRIMARY KEY, arn TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS function_code_signing_by_arn ON function_code_signing (arn);
CREATE TABLE IF NOT EXISTS function_configs (
    function TEXT NOT NULL, kind TEXT NOT NULL, qualifier TEXT NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (function, kind, qualifier));
"""

_encode = msgspec.json.encode
_decode_csc = msgspec.json.Decoder(CodeSigningConfig).decode
_decode_doc = msgspec.json.Decoder(dict[str, str]).decode


class SqliteLambdaConfigStore(SqliteStore):
    """`CodeSigningStore` and `FunctionConfigStore` over three tables."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)

    # -- code signing configurations -------------------------------------------------------------------
    def get_signing_config(self, arn: str) -> CodeSigningConfig | None:
        rows = self._db.execute("SELECT doc FROM code_signing_configs WHERE arn = ?", (arn,))
        return _decode_csc(rows[0][0]) if rows else None

    def list_signing_configs(self) -> list[CodeSigningConfig]:
        rows = self._db.execute("SELECT doc FROM code_signing_configs ORDER BY seq")
        return [_decode_csc(row[0]) for row in rows]

    def put_signing_config(self, config: CodeSigningConfig) -> None:
        self._db.execute(
            "INSERT INTO code_signing_configs (arn, seq, doc) VALUES "
            "(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM code_signing_configs), ?) "
            "ON CONFLICT(arn) DO UPDATE SET doc = excluded.doc",
            (config.arn, _encode(config)),
        )

    def delete_signing_config(self, arn: str) -> None:
        self._db.execute("DELETE FROM code_signing_configs WHERE arn = ?", (arn,))

    def function_signing_config(self, function_name: str) -> str | None:
        rows = self._db.execute("SELECT arn FROM function_code_signing WHERE function = ?", (function_name,))
        return str(rows[0][0]) if rows else None

    def set_function_signing_config(self, function_name: str, arn: str | None) -> None:
        if arn is None:
            self._db.execute("DELETE FROM function_code_signing WHERE function = ?", (function_name,))
        else:
            self._db.execute(
                "INSERT INTO function_code_signing (function, arn) VALUES (?, ?) "
                "ON CONFLICT(function) DO UPDATE SET arn = excluded.arn",
                (function_name, arn),
            )

    def functions_signed_by(self, arn: str) -> list[str]:
        rows = self._db.execute(
            "SELECT function FROM function_code_signing WHERE arn = ? ORDER BY function", (arn,)
        )
        return [str(row[0]) for row in rows]

    # -- per-function configuration documents ----------------------------------------------------------
    def get_config(self, function_name: str, kind: str, qualifier: str) -> dict[str, str] | None:
        rows = self._db.execute(
            "SELECT doc FROM function_configs WHERE function = ? AND kind = ? AND qualifier = ?",
            (function_name, kind, qualifier),
        )
        return _decode_doc(rows[0][0]) if rows else None

    def put_config(self, function_name: str, kind: str, qualifier: str, doc: dict[str, str]) -> None:
        self._db.execute(
            "INSERT INTO function_configs (function, kind, qualifier, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(function, kind, qualifier) DO UPDATE SET doc = excluded.doc",
            (function_name, kind, qualifier, _encode(doc)),
        )

    def config_qualifiers(self, function_name: str, kind: str) -> list[str]:
        rows = self._db.execute(
            "SELECT qualifier FROM function_configs WHERE function = ? AND kind = ?", (function_name, kind)
        )
        return [str(row[0]) for row in rows]

    def delete_config(self, function_name: str, kind: str, qualifier: str) -> None:
        self._db.execute(
            "DELETE FROM function_configs WHERE function = ? AND kind = ? AND qualifier = ?",
            (function_name, kind, qualifier),
        )

    def configured_functions(self) -> list[str]:
        rows = self._db.execute(
            "SELECT function FROM function_configs UNION SELECT function FROM function_code_signing"
        )
        return [str(row[0]) for row in rows]

    def delete_configs(self, function_name: str) -> None:
        with self._db.transaction():
            self._db.execute("DELETE FROM function_configs WHERE function = ?", (function_name,))
            self._db.execute("DELETE FROM function_code_signing WHERE function = ?", (function_name,))
