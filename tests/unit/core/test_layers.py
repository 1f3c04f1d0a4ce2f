"""The layer service over the real SQLite store and code store: numbering, deletion, functions' layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdabox.core.functions import _check_size
from lambdabox.core.layers.service import LayerService
from lambdabox.core.models import MAX_UNZIPPED_BYTES, CodeRef, LayerRef
from lambdabox.core.names import Account
from lambdabox.errors import AwsError
from lambdabox.storage.code import FileCodeStore
from lambdabox.storage.layers_sqlite import SqliteLayerStore
from lambdabox.storage.sqlite import Database
from tests.conftest import make_zip

ACCOUNT = Account("123456789012", "us-east-1")


def _service(root: Path) -> LayerService:
    return LayerService(SqliteLayerStore(Database(root / "db.sqlite")), FileCodeStore(root / "code"), ACCOUNT)


def test_versions_are_numbered_per_layer_and_never_reused(tmp_path: Path) -> None:
    layers = _service(tmp_path)
    assert [layers.publish("a", make_zip({"x": str(i)})).version for i in range(3)] == [1, 2, 3]
    assert layers.publish("b", make_zip({"x": "b"})).version == 1
    layers.delete("a", 3)
    layers.delete("a", 3)  # idempotent
    assert layers.publish("a", make_zip({"x": "again"})).version == 4
    assert [v.version for v in layers.list_versions("a")] == [4, 2, 1]
    reopened = _service(tmp_path)  # what a restart sees
    assert [v.version for v in reopened.list_layers()] == [4, 1]
    with pytest.raises(AwsError) as excinfo:
        reopened.get("a", 3)
    assert excinfo.value.code == "ResourceNotFoundException"


def test_resolve_checks_a_functions_layers(tmp_path: Path) -> None:
    layers = _service(tmp_path)
    one = layers.publish("one", make_zip({"python/m.py": "A = 1"}))
    two = layers.publish("two", make_zip({"python/m.py": "A = 2"}))
    arn_one, arn_two = layers.version_arn("one", 1), layers.version_arn("two", 1)
    refs = layers.resolve([arn_one, arn_two])
    assert refs == (LayerRef(arn_one, one.code), LayerRef(arn_two, two.code))
    for arns, message in (
        ([arn_one] * 6, "Cannot reference more than 5 layers."),
        ([layers.layer_arn("one")], f"Layer version {layers.layer_arn('one')} does not exist."),
        ([arn_one.replace("123456789012", "210987654321")], "does not exist."),
        ([arn_one, arn_one], "are versions of the same layer."),
    ):
        with pytest.raises(AwsError) as excinfo:
            layers.resolve(arns)
        assert excinfo.value.code == "InvalidParameterValueException"
        assert excinfo.value.message.endswith(message)
    layers.delete("one", 1)
    with pytest.raises(AwsError):
        layers.resolve([arn_one])


def test_combined_size_limit() -> None:
    layer = LayerRef("arn", CodeRef("k", "s", 10, MAX_UNZIPPED_BYTES - 100))
    _check_size(100, [layer])
    with pytest.raises(AwsError) as excinfo:
        _check_size(101, [layer])
    assert excinfo.value.message == (
        "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. "
        "The actual size is 262144001 bytes."
    )
