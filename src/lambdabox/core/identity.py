"""Who signs requests: access keys and the principals they belong to.

`CredentialStore` is the one question request authentication asks ("what is the secret of this access key
id, and whose key is it?"). The platform's answer is `core/iam/credentials.IamCredentialStore`: the root
credentials, IAM users' access keys and STS sessions. Secrets never appear in a record's repr, so a
record that reaches a log line or a traceback does not leak them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    principal_arn: str  # e.g. arn:aws:iam::000000000000:root
    account_id: str
    # Temporary credentials (STS) carry a session token the request must present as X-Amz-Security-Token.
    session_token: str | None = field(default=None, repr=False)
    # Temporary credentials past their expiration: the verifier refuses them with ExpiredToken.
    expired: bool = False

    @property
    def user_id(self) -> str:
        """The caller id events show for this signer: the account for its root user, else the key id."""
        return self.account_id if self.principal_arn.endswith(":root") else self.access_key_id


class CredentialStore(Protocol):
    """Access key id -> key record; None when the key is unknown (or was deleted, or expired)."""

    def lookup(self, access_key_id: str) -> AccessKey | None: ...


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


class StaticCredentialStore:
    """A fixed set of keys (unit tests and tools; the platform uses `IamCredentialStore`)."""

    def __init__(self, keys: list[AccessKey]) -> None:
        self._keys = {key.access_key_id: key for key in keys}

    @classmethod
    def root(cls, account_id: str, access_key_id: str, secret_access_key: str) -> StaticCredentialStore:
        return cls([AccessKey(access_key_id, secret_access_key, root_arn(account_id), account_id)])

    def lookup(self, access_key_id: str) -> AccessKey | None:
        return self._keys.get(access_key_id)
