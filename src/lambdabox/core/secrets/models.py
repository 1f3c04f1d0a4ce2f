"""Secrets Manager domain records."""

from __future__ import annotations

from dataclasses import dataclass, field

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
PENDING = "AWSPENDING"


@dataclass(frozen=True)
class SecretVersion:
    version_id: str
    created: float
    stages: tuple[str, ...] = ()
    ciphertext: bytes | None = None  # None: a version without a value yet (AWSPENDING during rotation)
    binary: bool = False
    key_id: str | None = None  # the KMS key that encrypted it
    last_accessed: float | None = None


@dataclass(frozen=True)
class RotationRules:
    automatically_after_days: int | None = None
    duration: str | None = None
    schedule_expression: str | None = None


@dataclass(frozen=True)
class Secret:
    name: str
    arn: str
    created: float
    last_changed: float
    description: str | None = None
    kms_key_id: str | None = None  # as the caller gave it; None: alias/aws/secretsmanager
    tags: dict[str, str] = field(default_factory=dict)
    deleted: float | None = None
    recovery_days: int | None = None
    rotation_enabled: bool | None = None
    rotation_lambda: str | None = None
    rotation_rules: RotationRules | None = None
    last_rotated: float | None = None
    last_accessed: float | None = None
    versions: dict[str, SecretVersion] = field(default_factory=dict)  # in creation order
    resource_policy: str | None = None

    def version_with(self, stage: str) -> SecretVersion | None:
        return next((v for v in self.versions.values() if stage in v.stages), None)

    @property
    def purge_at(self) -> float | None:
        if self.deleted is None:
            return None
        return self.deleted + (self.recovery_days or 0) * 86_400.0


@dataclass(frozen=True)
class SecretValue:
    secret: Secret
    version: SecretVersion
    string: str | None
    binary: bytes | None
