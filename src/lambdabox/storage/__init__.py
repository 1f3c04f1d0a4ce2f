"""Storage behind small interfaces; the embedded default is SQLite (WAL) plus the local filesystem."""
