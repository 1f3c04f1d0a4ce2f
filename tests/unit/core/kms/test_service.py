"""KmsService over a real SQLite store: key references, AWS-managed keys, deletion on the clock, the keys of
Lambda environments."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lambdabox.core.clock import Clock
from lambdabox.core.kms.lambda_keys import LambdaKeys
from lambdabox.core.kms.service import DAY, KmsService
from lambdabox.core.models import CodeRef, FunctionVersion
from lambdabox.core.names import Account
from lambdabox.errors import AwsError
from lambdabox.storage.kms_sqlite import SqliteKmsStore
from lambdabox.storage.sealing import MasterKey
from lambdabox.storage.sqlite import Database

ACCOUNT = Account("123456789012", "eu-west-1")


class Time:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def time_() -> Time:
    return Time()


@pytest.fixture
def kms(tmp_path: Path, time_: Time) -> KmsService:
    return KmsService(
        SqliteKmsStore(Database(tmp_path / "db"), MasterKey.generate()), ACCOUNT, Clock(source=time_)
    )


def test_every_reference_form_names_the_same_key(kms: KmsService) -> None:
    key = kms.create_key("d", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", {})
    kms.create_alias("alias/app", key.key_id)
    arn = f"arn:aws:kms:eu-west-1:123456789012:key/{key.key_id}"
    for ref in (key.key_id, arn, "alias/app", "arn:aws:kms:eu-west-1:123456789012:alias/app"):
        assert kms.resolve(ref).key_id == key.key_id
    for ref in ("not-a-uuid", "alias/none", f"arn:aws:kms:us-east-1:123456789012:key/{key.key_id}"):
        with pytest.raises(AwsError) as excinfo:
            kms.resolve(ref)
        assert excinfo.value.code == "NotFoundException"


def test_aws_managed_keys_are_created_once(kms: KmsService) -> None:
    first = kms.managed_key("secretsmanager")
    assert kms.managed_key("secretsmanager").key_id == first.key_id
    assert first.manager.value == "AWS"
    assert [a.name for a in kms.list_aliases(None)] == ["alias/aws/secretsmanager"]


def test_deletion_happens_when_the_window_ends(kms: KmsService, time_: Time) -> None:
    key = kms.create_key("", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", {})
    kms.create_alias("alias/gone", key.key_id)
    _, blob = kms.encrypt(key.key_id, b"v")
    kms.schedule_deletion(key.key_id, 7)
    time_.now += 7 * DAY - 1
    assert kms.describe(key.key_id).state.value == "PendingDeletion"
    time_.now += 2
    with pytest.raises(AwsError):
        kms.describe(key.key_id)
    assert kms.list_aliases(None) == []
    with pytest.raises(AwsError) as excinfo:
        kms.decrypt(blob)
    assert excinfo.value.code == "InvalidCiphertextException"


def test_data_at_rest_opens_whatever_the_key_state(kms: KmsService) -> None:
    key = kms.create_key("", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", {})
    blob = kms.seal_at_rest(key.key_id, b"v", {"c": "1"})
    kms.disable(key.key_id)
    assert kms.open_at_rest(blob, {"c": "1"}) == b"v"
    with pytest.raises(AwsError) as excinfo:
        kms.decrypt(blob, {"c": "1"})
    assert excinfo.value.code == "DisabledException"


def test_lambda_keys_refuse_invocations_the_key_cannot_serve(kms: KmsService) -> None:
    keys = LambdaKeys(kms)
    key = kms.create_key("", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", {})
    arn = f"arn:aws:kms:eu-west-1:123456789012:key/{key.key_id}"
    version = FunctionVersion(
        "f",
        "$LATEST",
        CodeRef("k", "s", 1, 1),
        "python3.12",
        "app.handler",
        "r",
        environment={"NAME": "v"},
        kms_key_arn=arn,
    )
    keys.check_invocable(version)
    sealed = keys.seal(version, {"NAME": "v"})
    assert keys.open(version, sealed) == {"NAME": "v"}
    keys.check_invocable(replace(version, environment={}))
    kms.disable(key.key_id)
    with pytest.raises(AwsError) as excinfo:
        keys.check_invocable(version)
    assert (excinfo.value.code, excinfo.value.status) == ("KMSDisabledException", 502)
    keys.check_invocable(replace(version, environment=None))  # no variables: the key is not used
    kms.enable(key.key_id)
    kms.schedule_deletion(key.key_id, 7)
    with pytest.raises(AwsError) as excinfo:
        keys.check_invocable(version)
    assert excinfo.value.code == "KMSInvalidStateException"
    with pytest.raises(AwsError) as excinfo:
        keys.check_config("arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555")
    assert excinfo.value.code == "InvalidParameterValueException"
