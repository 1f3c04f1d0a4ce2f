"""IAM and STS domain records. Frozen dataclasses; changes produce new records (`dataclasses.replace`).

Names are unique without regard to case, as IAM's are (`Bob` and `bob` are the same user); records keep
the case they were created with. Policy documents are kept as the text the caller sent (IAM returns them
as sent, URL-encoded); `document()` parses them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Tags = tuple[tuple[str, str], ...]
Inline = tuple[tuple[str, str], ...]  # (policy name, document text), by name

DEFAULT_MAX_SESSION = 3600


class KeyStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True)
class User:
    name: str
    user_id: str  # AIDA…
    arn: str
    path: str
    created: float
    tags: Tags = ()
    inline: Inline = ()
    attached: tuple[str, ...] = ()  # managed policy ARNs, in attachment order
    permissions_boundary: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    group_id: str  # AGPA…
    arn: str
    path: str
    created: float
    members: tuple[str, ...] = ()  # user names
    inline: Inline = ()
    attached: tuple[str, ...] = ()


@dataclass(frozen=True)
class Role:
    name: str
    role_id: str  # AROA…
    arn: str
    path: str
    created: float
    assume_role_policy_document: str
    description: str | None = None
    max_session_duration: int = DEFAULT_MAX_SESSION
    tags: Tags = ()
    inline: Inline = ()
    attached: tuple[str, ...] = ()
    permissions_boundary: str | None = None
    last_used: float | None = None
    last_used_region: str | None = None

    @property
    def assume_role_policy(self) -> dict[str, Any]:
        return document(self.assume_role_policy_document)


@dataclass(frozen=True)
class InstanceProfile:
    name: str
    instance_profile_id: str  # AIPA…
    arn: str
    path: str
    created: float
    roles: tuple[str, ...] = ()  # role names (at most one)
    tags: Tags = ()


@dataclass(frozen=True)
class PolicyVersion:
    version_id: str  # v1, v2, …
    document: str
    created: float


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    policy_id: str  # ANPA…
    arn: str
    path: str
    created: float
    updated: float
    default_version: str
    versions: tuple[PolicyVersion, ...]
    next_version: int = 2
    description: str | None = None
    tags: Tags = ()

    @property
    def aws_managed(self) -> bool:
        return self.arn.startswith("arn:aws:iam::aws:policy/")

    def version(self, version_id: str) -> PolicyVersion | None:
        return next((v for v in self.versions if v.version_id == version_id), None)

    @property
    def default(self) -> PolicyVersion:
        found = self.version(self.default_version)
        assert found is not None
        return found


@dataclass(frozen=True)
class AccessKeyRecord:
    access_key_id: str  # AKIA…
    secret_access_key: str = field(repr=False)
    user_name: str = ""
    status: KeyStatus = KeyStatus.ACTIVE
    created: float = 0.0
    last_used: float | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass(frozen=True)
class Session:
    """Temporary credentials issued by STS (AssumeRole, GetSessionToken)."""

    access_key_id: str  # ASIA…
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    principal_arn: str = ""  # assumed-role ARN, or the user / root ARN for GetSessionToken
    user_id: str = ""  # AROA…:session for a role session, the user's id (account id for root) otherwise
    expiration: float = 0.0
    role_arn: str | None = None
    session_name: str | None = None
    policy: str | None = None  # inline session policy, as sent
    policy_arns: tuple[str, ...] = ()  # managed session policies
    tags: Tags = ()
    source_identity: str | None = None


@dataclass(frozen=True)
class TemporaryCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: float = 0.0  # epoch seconds
    assumed_role_arn: str = ""
    assumed_role_id: str = ""  # AROA…:session


def document(text: str) -> dict[str, Any]:
    """A stored (already validated) policy document, parsed."""
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    return parsed
