"""Environment variables are sealed in the database and plaintext above the store."""

from __future__ import annotations

from pathlib import Path

from lambdabox.core.clock import Clock
from lambdabox.core.kms.lambda_keys import LambdaKeys
from lambdabox.core.kms.service import KmsService
from lambdabox.core.models import CodeRef, Function, FunctionVersion
from lambdabox.core.names import Account
from lambdabox.storage.kms_sqlite import SqliteKmsStore
from lambdabox.storage.sealed_functions import SEALED, SealingFunctionStore
from lambdabox.storage.sealing import MasterKey
from lambdabox.storage.sqlite import Database, SqliteFunctionStore


def test_variables_are_sealed_at_rest(tmp_path: Path) -> None:
    db = Database(tmp_path / "db")
    inner = SqliteFunctionStore(db)
    store = SealingFunctionStore(
        inner,
        LambdaKeys(KmsService(SqliteKmsStore(db, MasterKey.generate()), Account("1" * 12, "r"), Clock())),
    )
    version = FunctionVersion(
        "f",
        "$LATEST",
        CodeRef("k", "s", 1, 1),
        "python3.12",
        "app.handler",
        "r",
        environment={"SECRET": "plain"},
    )
    store.put_function(Function("f", 0.0))
    store.put_version(version)
    raw = inner.get_version("f", "$LATEST")
    assert raw is not None and raw.environment is not None and list(raw.environment) == [SEALED]
    assert "plain" not in str(raw.environment)
    assert store.get_version("f", "$LATEST") == version
    assert store.list_versions("f") == [version]
    empty = FunctionVersion("g", "$LATEST", CodeRef("k", "s", 1, 1), "python3.12", "app.handler", "r")
    store.put_version(empty)
    assert store.get_version("g", "$LATEST") == empty
