"""Function URL configurations in the shared SQLite database (their own table)."""

from __future__ import annotations

import msgspec

from lambdabox.core.function_urls import FunctionUrl
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS function_urls (
    url_id TEXT PRIMARY KEY, function TEXT NOT NULL, qualifier TEXT NOT NULL, doc BLOB NOT NULL,
    UNIQUE (function, qualifier));
"""

_encode = msgspec.json.encode
_decode = msgspec.json.Decoder(FunctionUrl).decode


class SqliteUrlStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)

    def get(self, url_id: str) -> FunctionUrl | None:
        rows = self._db.execute("SELECT doc FROM function_urls WHERE url_id = ?", (url_id,))
        return _decode(rows[0][0]) if rows else None

    def find(self, function_name: str, qualifier: str | None) -> FunctionUrl | None:
        rows = self._db.execute(
            "SELECT doc FROM function_urls WHERE function = ? AND qualifier = ?",
            (function_name, qualifier or ""),
        )
        return _decode(rows[0][0]) if rows else None

    def list_for(self, function_name: str) -> list[FunctionUrl]:
        rows = self._db.execute(
            "SELECT doc FROM function_urls WHERE function = ? ORDER BY qualifier", (function_name,)
        )
        return [_decode(row[0]) for row in rows]

    def put(self, url: FunctionUrl) -> None:
        self._db.execute(
            "INSERT INTO function_urls (url_id, function, qualifier, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(url_id) DO UPDATE SET doc = excluded.doc",
            (url.url_id, url.function_name, url.qualifier or "", _encode(url)),
        )

    def delete(self, url_id: str) -> None:
        self._db.execute("DELETE FROM function_urls WHERE url_id = ?", (url_id,))

    def delete_for(self, function_name: str) -> None:
        self._db.execute("DELETE FROM function_urls WHERE function = ?", (function_name,))
