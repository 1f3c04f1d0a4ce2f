"""API Gateway records (HTTP and REST APIs, their routes, integrations, stages, deployments, ...) in the
shared SQLite database: one table, each record a msgspec JSON document keyed by kind, API and key."""

from __future__ import annotations

from typing import Any

import msgspec

from lambdabox.core.apigateway.store import R, Record
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS apigateway_records (
    kind TEXT NOT NULL, api_id TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (kind, api_id, key));
CREATE INDEX IF NOT EXISTS apigateway_records_by_api ON apigateway_records (api_id)
"""


class SqliteApiGatewayStore(SqliteStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, SCHEMA)
        self._decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}

    def _decode(self, kind: type[R], doc: bytes) -> R:
        decoder = self._decoders.get(kind)
        if decoder is None:
            decoder = self._decoders[kind] = msgspec.json.Decoder(kind)
        record: R = decoder.decode(doc)
        return record

    def get(self, kind: type[R], api_id: str, key: str) -> R | None:
        rows = self._db.execute(
            "SELECT doc FROM apigateway_records WHERE kind = ? AND api_id = ? AND key = ?",
            (kind.__name__, api_id, key),
        )
        return self._decode(kind, rows[0][0]) if rows else None

    def list(self, kind: type[R], api_id: str | None = None) -> list[R]:
        if api_id is None:
            rows = self._db.execute(
                "SELECT doc FROM apigateway_records WHERE kind = ? ORDER BY seq", (kind.__name__,)
            )
        else:
            rows = self._db.execute(
                "SELECT doc FROM apigateway_records WHERE kind = ? AND api_id = ? ORDER BY seq",
                (kind.__name__, api_id),
            )
        return [self._decode(kind, row[0]) for row in rows]

    def put(self, api_id: str, key: str, record: Record) -> None:
        self._db.execute(
            "INSERT INTO apigateway_records (kind, api_id, key, seq, doc) VALUES (?, ?, ?, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM apigateway_records), ?) "
            "ON CONFLICT(kind, api_id, key) DO UPDATE SET doc = excluded.doc",
            (type(record).__name__, api_id, key, msgspec.json.encode(record)),
        )

    def delete(self, kind: type[Record], api_id: str, key: str) -> None:
        self._db.execute(
            "DELETE FROM apigateway_records WHERE kind = ? AND api_id = ? AND key = ?",
            (kind.__name__, api_id, key),
        )

    def delete_api(self, api_id: str) -> None:
        self._db.execute("DELETE FROM apigateway_records WHERE api_id = ?", (api_id,))
