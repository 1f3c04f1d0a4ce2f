"""KMS domain records."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class KeyState(StrEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PENDING_DELETION = "PendingDeletion"


class KeyManager(StrEnum):
    AWS = "AWS"
    CUSTOMER = "CUSTOMER"


@dataclass(frozen=True)
class KmsKey:
    """A symmetric encryption key. Its material lives beside it in the store, never in this record."""

    key_id: str  # a UUID
    created: float
    description: str = ""
    state: KeyState = KeyState.ENABLED
    manager: KeyManager = KeyManager.CUSTOMER
    key_usage: str = "ENCRYPT_DECRYPT"
    key_spec: str = "SYMMETRIC_DEFAULT"
    deletion_date: float | None = None
    pending_window_days: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    policy: str | None = None  # the key policy document; None: the default key policy
    rotation_period_days: int | None = None  # automatic rotation of the key material is enabled


@dataclass(frozen=True)
class KmsAlias:
    name: str  # "alias/..."
    key_id: str
    created: float
    updated: float


@dataclass(frozen=True)
class Decrypted:
    key_id: str
    plaintext: bytes
