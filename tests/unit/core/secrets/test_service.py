"""SecretsService over real SQLite and KMS stores: staging labels, lookups, purging, filters, passwords."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from lambdabox.core.clock import Clock
from lambdabox.core.kms.service import KmsService
from lambdabox.core.names import Account
from lambdabox.core.secrets.filters import ListFilter
from lambdabox.core.secrets.passwords import random_password
from lambdabox.core.secrets.service import DAY, NewValue, SecretsService
from lambdabox.errors import AwsError
from lambdabox.storage.kms_sqlite import SqliteKmsStore
from lambdabox.storage.sealing import MasterKey
from lambdabox.storage.secrets_sqlite import SqliteSecretsStore
from lambdabox.storage.sqlite import Database

ACCOUNT = Account("123456789012", "eu-west-1")


class Time:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def time_() -> Time:
    return Time()


@pytest.fixture
def secrets(tmp_path: Path, time_: Time) -> SecretsService:
    db = Database(tmp_path / "db")
    clock = Clock(source=time_)
    return SecretsService(
        SqliteSecretsStore(db),
        KmsService(SqliteKmsStore(db, MasterKey.generate()), ACCOUNT, clock),
        ACCOUNT,
        clock,
    )


def stages(secrets: SecretsService, name: str) -> dict[str, tuple[str, ...]]:
    return {vid: v.stages for vid, v in secrets.find(name).versions.items()}


def test_labels_move_and_current_becomes_previous(secrets: SecretsService) -> None:
    secrets.create("s", "v1" * 16, NewValue("one"), None, None, {})
    secrets.put_value("s", "v2" * 16, NewValue("two"), None)
    secrets.put_value("s", "v3" * 16, NewValue("three"), None)
    assert stages(secrets, "s") == {"v1" * 16: (), "v2" * 16: ("AWSPREVIOUS",), "v3" * 16: ("AWSCURRENT",)}
    secrets.put_value("s", "v4" * 16, NewValue("four"), ["AWSCURRENT", "blue"])
    assert stages(secrets, "s")["v4" * 16] == ("AWSCURRENT", "blue")
    assert stages(secrets, "s")["v3" * 16] == ("AWSPREVIOUS",)
    secrets.update_stage("s", "blue", "v4" * 16, None)
    assert stages(secrets, "s")["v4" * 16] == ("AWSCURRENT",)
    assert secrets.value("s", None, "AWSPREVIOUS").string == "three"


def test_partial_arns_and_names_that_look_like_suffixes(secrets: SecretsService) -> None:
    plain, _ = secrets.create("db", None, NewValue("a"), None, None, {})
    suffixed, _ = secrets.create("db-abcdef", None, NewValue("b"), None, None, {})
    prefix = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
    assert secrets.find(plain.arn).name == "db"
    assert secrets.find(prefix + "db").name == "db"
    assert secrets.find(prefix + "db-abcdef").name == "db-abcdef"
    assert secrets.find(suffixed.arn).name == "db-abcdef"
    with pytest.raises(AwsError):
        secrets.find("arn:aws:secretsmanager:us-east-1:123456789012:secret:db")


def test_scheduled_deletion_purges_on_the_clock(secrets: SecretsService, time_: Time) -> None:
    secrets.create("old", None, NewValue(binary=b"\x00"), None, None, {})
    secrets.delete("old", 7, force=False)
    time_.now += 7 * DAY - 1
    assert secrets.find("old").deleted is not None
    time_.now += 2
    with pytest.raises(AwsError) as excinfo:
        secrets.find("old")
    assert excinfo.value.code == "ResourceNotFoundException"


def test_list_filters(secrets: SecretsService) -> None:
    secrets.create("prod/DatabaseCreds", None, None, "Primary DB", None, {"team": "Payments"})
    secrets.create("dev/cache", None, None, None, None, {"team": "web"})

    def names(*filters: ListFilter) -> list[str]:
        return [s.name for s in secrets.list_secrets(filters, include_deleted=False)]

    assert names(ListFilter("name", ("prod",))) == ["prod/DatabaseCreds"]
    assert names(ListFilter("name", ("Prod",))) == []  # name: case-sensitive
    assert names(ListFilter("description", ("primary",))) == ["prod/DatabaseCreds"]
    assert names(ListFilter("tag-value", ("!web",))) == ["prod/DatabaseCreds"]
    assert names(ListFilter("all", ("database",))) == ["prod/DatabaseCreds"]
    assert names(ListFilter("all", ("payments",))) == ["prod/DatabaseCreds"]
    assert names(ListFilter("name", ("dev", "prod")), ListFilter("tag-key", ("team",))) == [
        "prod/DatabaseCreds",
        "dev/cache",
    ]


def test_random_passwords() -> None:
    password = random_password(
        64,
        "abc",
        numbers=True,
        punctuation=True,
        uppercase=True,
        lowercase=True,
        space=False,
        require_each=True,
    )
    assert len(password) == 64 and not set("abc") & set(password)
    assert any(c in string.punctuation for c in password) and any(c.isdigit() for c in password)
    with pytest.raises(AwsError):
        random_password(
            8,
            "",
            numbers=False,
            punctuation=False,
            uppercase=False,
            lowercase=False,
            space=False,
            require_each=True,
        )
