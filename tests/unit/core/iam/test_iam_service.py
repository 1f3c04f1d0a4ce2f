"""IAM's core with its SQLite store: what the platform asks of it (identity and session policies, roles,
service trust), credentials for request authentication, STS sessions and their expiry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdabox.core.clock import Clock
from lambdabox.core.iam.credentials import IamCredentialStore
from lambdabox.core.iam.managed import load_aws_managed
from lambdabox.core.iam.service import EntityKind, IamService
from lambdabox.core.identity import AccessKey, root_arn
from lambdabox.core.sts import AssumeRoleRequest, Sts
from lambdabox.errors import AwsError
from lambdabox.storage.iam_sqlite import SqliteIamStore
from lambdabox.storage.sealing import MasterKey
from lambdabox.storage.sqlite import Database

ACCOUNT = "123456789012"
ROOT = AccessKey("LKIAROOT", "root-secret", root_arn(ACCOUNT), ACCOUNT)
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def allow(action: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
    )


def trust(principal: dict[str, str]) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


MASTER = MasterKey.generate()


class Parts:
    def __init__(self, path: Path) -> None:
        self.db = Database(path / "iam.db")
        self.clock = Clock(source=lambda: 1_000_000.0)
        self.store = SqliteIamStore(self.db, MASTER)
        self.credentials = IamCredentialStore(ROOT, self.store, self.clock)
        self.iam = IamService(self.store, ACCOUNT, self.clock, load_aws_managed(), self.credentials.forget)
        self.sts = Sts(self.iam, self.store, self.clock)


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Parts]:
    made = Parts(tmp_path)
    yield made
    made.db.close()


def test_identity_policies_of_a_user_and_its_groups(parts: Parts) -> None:
    iam = parts.iam
    user = iam.create_user("alice", "/", (), None)
    iam.put_inline(EntityKind.USER, "alice", "own", allow("s3:GetObject"))
    iam.attach(EntityKind.USER, "alice", S3_READ)
    iam.create_group("devs", "/")
    iam.add_user_to_group("devs", "alice")
    iam.put_inline(EntityKind.GROUP, "devs", "team", allow("lambda:*"))
    policies = iam.identity_policies(user.arn)
    assert [label for label, _ in policies] == [
        f"{user.arn}#inline/own",
        S3_READ,
        f"arn:aws:iam::{ACCOUNT}:group/devs#inline/team",
    ]
    assert policies[0][1]["Statement"][0]["Action"] == "s3:GetObject"
    iam.remove_user_from_group("devs", "alice")  # writes invalidate the cached answer
    assert len(iam.identity_policies(user.arn)) == 2
    assert iam.identity_policies(root_arn(ACCOUNT)) == []


def test_roles_sessions_and_service_trust(parts: Parts) -> None:
    iam, sts = parts.iam, parts.sts
    role = iam.create_role(
        "runner", "/service/", trust({"Service": "lambda.amazonaws.com"}), None, None, (), None
    )
    iam.attach(EntityKind.ROLE, "runner", S3_READ)
    role = iam.role("runner")
    assert iam.get_role("RUNNER") == role and iam.get_role(role.arn) == role
    assert iam.get_role(f"arn:aws:iam::{ACCOUNT}:role/runner") is None  # the path is part of the ARN
    assert role.assume_role_policy["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert iam.role_trusts_service(role.arn, "lambda.amazonaws.com")
    assert not iam.role_trusts_service(role.arn, "s3.amazonaws.com")

    credentials = sts.credentials_for_role(role.arn, "fn-env", 3600)
    assert credentials.assumed_role_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/runner/fn-env"
    assert credentials.access_key_id.startswith("ASIA") and credentials.expiration == 1_000_000.0 + 3600
    assert [label for label, _ in iam.identity_policies(credentials.assumed_role_arn)] == [S3_READ]
    assert iam.session_policies(credentials.assumed_role_arn) == []
    key = parts.credentials.lookup(credentials.access_key_id)
    assert key is not None and key.session_token == credentials.session_token and not key.expired
    assert key.principal_arn == credentials.assumed_role_arn
    parts.clock.set(1_000_000.0 + 3601)
    expired = parts.credentials.lookup(credentials.access_key_id)
    assert expired is not None and expired.expired


def test_assume_role_keeps_session_policies(parts: Parts) -> None:
    iam, sts = parts.iam, parts.sts
    user = iam.create_user("bob", "/", (), None)
    role = iam.create_role("target", "/", trust({"AWS": user.arn}), None, None, (), None)
    ask = AssumeRoleRequest(role.arn, "scoped", policy=allow("s3:GetObject"), policy_arns=(S3_READ,))
    session, _, packed = sts.assume_role(user.arn, ask)
    assert packed is not None and 0 < packed <= 100
    labels = [label for label, _ in iam.session_policies(session.principal_arn)]
    assert labels == [f"{session.principal_arn}#session", S3_READ]
    assert sts.caller_identity(session.principal_arn).user_id == f"{role.role_id}:scoped"
    with pytest.raises(AwsError) as refused:
        sts.assume_role(root_arn(ACCOUNT), ask)
    assert refused.value.message == "Roles may not be assumed by root accounts."


def test_credentials_follow_key_status(parts: Parts) -> None:
    iam, credentials = parts.iam, parts.credentials
    user = iam.create_user("carol", "/", (), None)
    record = iam.create_access_key("carol")
    found = credentials.lookup(record.access_key_id)
    assert found is not None and found.principal_arn == user.arn and found.session_token is None
    assert credentials.lookup(ROOT.access_key_id) is ROOT
    iam.update_access_key("carol", record.access_key_id, "Inactive")
    assert credentials.lookup(record.access_key_id) is None
    iam.update_access_key("carol", record.access_key_id, "Active")
    iam.update_user("carol", "caroline", None)  # a renamed user's keys sign as the new ARN
    renamed = credentials.lookup(record.access_key_id)
    assert renamed is not None and renamed.principal_arn == f"arn:aws:iam::{ACCOUNT}:user/caroline"
    iam.delete_access_key("caroline", record.access_key_id)
    assert credentials.lookup(record.access_key_id) is None
    assert credentials.lookup("AKIAUNKNOWN000000000") is None


def test_state_survives_a_restart(tmp_path: Path) -> None:
    first = Parts(tmp_path)
    first.iam.create_user("dave", "/", (("k", "v"),), None)
    key = first.iam.create_access_key("dave")
    arn = first.iam.create_policy("p", "/", allow("s3:*"), "desc", ()).arn
    first.iam.create_policy_version(arn, allow("s3:GetObject"), True)
    first.db.close()
    second = Parts(tmp_path)
    assert second.iam.user("DAVE").tags == (("k", "v"),)  # names are case-insensitive
    assert second.credentials.lookup(key.access_key_id) is not None
    assert second.iam.policy(arn).default_version == "v2"
    second.db.close()


def test_principal_tags(parts: Parts) -> None:
    iam, sts = parts.iam, parts.sts
    user = iam.create_user("erin", "/", (("team", "blue"),), None)
    assert iam.principal_tags(user.arn) == {"team": "blue"}
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": user.arn},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        }
    )
    role = iam.create_role("tagged", "/", document, None, None, (("Team", "red"), ("env", "dev")), None)
    session, _, _ = sts.assume_role(user.arn, AssumeRoleRequest(role.arn, "t1", tags=(("team", "green"),)))
    assert iam.principal_tags(session.principal_arn) == {"env": "dev", "team": "green"}
    assert iam.principal_tags(root_arn(ACCOUNT)) == {}
