"""Secrets, their versions and staging labels, encrypted with KMS; deletion windows on the platform clock."""

from __future__ import annotations

import re
import secrets as random
import string
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import orjson

from lambdabox.core.clock import Clock
from lambdabox.core.events.schedule import Rate, parse_schedule
from lambdabox.core.kms.service import KmsService
from lambdabox.core.names import Account
from lambdabox.core.secrets.filters import ListFilter, matches
from lambdabox.core.secrets.models import (
    CURRENT,
    PENDING,
    PREVIOUS,
    RotationRules,
    Secret,
    SecretValue,
    SecretVersion,
)
from lambdabox.core.secrets.store import SecretsStore
from lambdabox.errors import AwsError

DAY = 86_400.0
DEFAULT_KEY = "alias/aws/secretsmanager"
MAX_VERSIONS = 100
_NAME = re.compile(r"[A-Za-z0-9/_+=.@!-]+")
_ARN = re.compile(
    r"arn:aws[\w-]*:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:(?P<rest>.+)"
)


def not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")


def marked_for_deletion() -> AwsError:
    return AwsError(
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


@dataclass(frozen=True)
class NewValue:
    """A secret value as given: exactly one of `string` and `binary`."""

    string: str | None = None
    binary: bytes | None = None

    @staticmethod
    def of(text: str | None, data: bytes | None) -> NewValue | None:
        if text is not None and data is not None:
            raise invalid_parameter(
                "You can't specify both a binary secret value and a string secret value in the same secret."
            )
        if text is None and data is None:
            return None
        return NewValue(text, data)

    @property
    def raw(self) -> bytes:
        return self.binary if self.binary is not None else (self.string or "").encode()


class SecretsService:
    def __init__(self, store: SecretsStore, kms: KmsService, account: Account, clock: Clock) -> None:
        self._store = store
        self._kms = kms
        self.account = account
        self._clock = clock

    # -- names and lookup ------------------------------------------------------------------------------
    def _new_arn(self, name: str) -> str:
        suffix = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(6))
        return (
            f"arn:aws:secretsmanager:{self.account.region}:{self.account.account_id}:secret:{name}-{suffix}"
        )

    def now(self) -> float:
        return self._clock.now()

    def find(self, secret_id: str) -> Secret:
        """A secret by name, full ARN or partial ARN (without the random suffix); deleted ones too."""
        self._store.purge(self.now())
        match = _ARN.fullmatch(secret_id)
        if match is None:
            found = self._store.get(secret_id)
        else:
            if match["region"] != self.account.region or match["account"] != self.account.account_id:
                raise not_found()
            found = self._store.get_by_arn(secret_id) or self._store.get(match["rest"])
        if found is None:
            raise not_found()
        return found

    def active(self, secret_id: str) -> Secret:
        secret = self.find(secret_id)
        if secret.deleted is not None:
            raise marked_for_deletion()
        return secret

    # -- encryption ------------------------------------------------------------------------------------
    def _seal(self, secret: Secret, version_id: str, value: NewValue) -> SecretVersion:
        context = {"SecretARN": secret.arn, "SecretVersionId": version_id}
        try:
            key, blob = self._kms.encrypt(secret.kms_key_id or DEFAULT_KEY, value.raw, context)
        except AwsError as error:
            raise AwsError(
                "EncryptionFailure",
                "Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check "
                f"that the KMS key is available, enabled, and not in an invalid state. ({error.message})",
            ) from None
        return SecretVersion(version_id, self.now(), (), blob, value.binary is not None, key.key_id)

    def _open(self, secret: Secret, version: SecretVersion) -> NewValue:
        assert version.ciphertext is not None
        context = {"SecretARN": secret.arn, "SecretVersionId": version.version_id}
        try:
            plaintext = self._kms.decrypt(version.ciphertext, context).plaintext
        except AwsError as error:
            raise AwsError(
                "DecryptionFailure",
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key. "
                f"({error.message})",
            ) from None
        return NewValue(binary=plaintext) if version.binary else NewValue(string=plaintext.decode())

    # -- creating and changing -------------------------------------------------------------------------
    def create(
        self,
        name: str,
        token: str | None,
        value: NewValue | None,
        description: str | None,
        kms_key_id: str | None,
        tags: dict[str, str],
    ) -> tuple[Secret, str | None]:
        if _NAME.fullmatch(name) is None:
            raise invalid_parameter(
                "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
                "following: -/_+=.@!"
            )
        version_id = token or str(uuid.uuid4())
        with self._store.transaction():
            self._store.purge(self.now())
            existing = self._store.get(name)
            if existing is not None:
                if existing.deleted is not None:
                    raise AwsError(
                        "InvalidRequestException",
                        "You can't create this secret because a secret with this name is already scheduled "
                        "for deletion.",
                    )
                old = existing.versions.get(version_id)
                if old is not None and value is not None and self._same(existing, old, value):
                    return existing, version_id  # a retry of the same request
                raise AwsError(
                    "ResourceExistsException",
                    f"The operation failed because the secret {name} already exists.",
                )
            if kms_key_id is not None:
                self._kms_key(kms_key_id)
            now = self.now()
            secret = Secret(name, self._new_arn(name), now, now, description, kms_key_id, dict(tags))
            if value is not None:
                version = replace(self._seal(secret, version_id, value), stages=(CURRENT,))
                secret = replace(secret, versions={version_id: version})
            self._put(secret)
        return secret, version_id if value is not None else None

    def _kms_key(self, ref: str) -> None:
        try:
            self._kms.resolve(ref)
        except AwsError:
            raise AwsError(
                "ResourceNotFoundException", "Secrets Manager can't find the specified KMS key."
            ) from None

    def _same(self, secret: Secret, version: SecretVersion, value: NewValue) -> bool:
        return version.ciphertext is not None and self._open(secret, version) == value

    def put_value(
        self, secret_id: str, token: str | None, value: NewValue, stages: Iterable[str] | None
    ) -> tuple[Secret, SecretVersion]:
        version_id = token or str(uuid.uuid4())
        labels = tuple(stages) if stages is not None else (CURRENT,)
        with self._store.transaction():
            secret = self.active(secret_id)
            old = secret.versions.get(version_id)
            if old is not None and old.ciphertext is not None:
                if self._same(secret, old, value):
                    return secret, old
                raise AwsError(
                    "ResourceExistsException",
                    "You can't modify an existing version, you can only create a new version.",
                )
            sealed = self._seal(secret, version_id, value)
            if old is not None:  # the value of a version created without one (rotation's AWSPENDING)
                sealed = replace(sealed, stages=old.stages, created=old.created)
            secret = self._add_version(secret, sealed, labels)
            self._put(secret)
        return secret, secret.versions[version_id]

    def _add_version(self, secret: Secret, version: SecretVersion, labels: tuple[str, ...]) -> Secret:
        versions = dict(secret.versions)
        versions[version.version_id] = version
        secret = replace(secret, versions=versions, last_changed=self.now())
        for label in labels:
            secret = _move_label(secret, label, version.version_id)
        return _trim(secret)

    def update(
        self,
        secret_id: str,
        token: str | None,
        value: NewValue | None,
        description: str | None,
        kms_key_id: str | None,
    ) -> tuple[Secret, str | None]:
        with self._store.transaction():
            secret = self.active(secret_id)
            if kms_key_id is not None:
                self._kms_key(kms_key_id)
            secret = replace(
                secret,
                description=description if description is not None else secret.description,
                kms_key_id=kms_key_id if kms_key_id is not None else secret.kms_key_id,
                last_changed=self.now(),
            )
            self._put(secret)
            if value is None:
                return secret, None
            secret, version = self.put_value(secret.arn, token, value, None)  # one transaction with the above
        return secret, version.version_id

    def update_stage(
        self, secret_id: str, stage: str, remove_from: str | None, move_to: str | None
    ) -> Secret:
        with self._store.transaction():
            secret = self.active(secret_id)
            holder = secret.version_with(stage)
            for version_id in (remove_from, move_to):
                if version_id is not None and version_id not in secret.versions:
                    raise invalid_parameter(f"The version {version_id} doesn't exist for the secret.")
            attached = holder.version_id if holder is not None else None
            if attached is not None and move_to is not None and attached not in (remove_from, move_to):
                raise invalid_parameter(
                    f"The staging label {stage} is currently attached to version {attached}, so "
                    "you must explicitly reference that version in RemoveFromVersionId."
                )
            if remove_from is not None and (holder is None or holder.version_id != remove_from):
                raise invalid_parameter(
                    f"The staging label {stage} is not attached to version {remove_from}, so you can't remove it."
                )
            if move_to is not None:
                secret = _move_label(secret, stage, move_to)
            elif holder is not None:
                if stage == CURRENT:
                    raise invalid_parameter("You can't remove the staging label AWSCURRENT from a version.")
                secret = _strip_label(secret, stage)
            secret = replace(secret, last_changed=self.now())
            self._put(secret)
        return secret

    # -- reading ---------------------------------------------------------------------------------------
    def value(self, secret_id: str, version_id: str | None, stage: str | None) -> SecretValue:
        secret = self.active(secret_id)
        if version_id is not None:
            version = secret.versions.get(version_id)
            if version is None or (stage is not None and stage not in version.stages):
                raise AwsError(
                    "ResourceNotFoundException",
                    f"Secrets Manager can't find the specified secret value for VersionId: {version_id}",
                )
        else:
            version = secret.version_with(stage or CURRENT)
            if version is None:
                raise AwsError(
                    "ResourceNotFoundException",
                    f"Secrets Manager can't find the specified secret value for staging label: {stage or CURRENT}",
                )
        if version.ciphertext is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"Secrets Manager can't find the specified secret value for VersionId: {version.version_id}",
            )
        opened = self._open(secret, version)
        today = _day(self.now())
        if version.last_accessed != today or secret.last_accessed != today:
            with self._store.transaction():
                current = self._store.get(secret.name)
                if current is not None and version.version_id in current.versions:
                    versions = dict(current.versions)
                    versions[version.version_id] = replace(versions[version.version_id], last_accessed=today)
                    self._put(replace(current, last_accessed=today, versions=versions))
        return SecretValue(secret, version, opened.string, opened.binary)

    def list_secrets(self, filters: Iterable[ListFilter], include_deleted: bool) -> list[Secret]:
        self._store.purge(self.now())
        chosen = list(filters)
        return [
            secret
            for secret in self._store.list_all()
            if (include_deleted or secret.deleted is None) and all(matches(secret, f) for f in chosen)
        ]

    # -- deleting --------------------------------------------------------------------------------------
    def delete(self, secret_id: str, recovery_days: int | None, force: bool) -> tuple[Secret, float]:
        if force and recovery_days is not None:
            raise invalid_parameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
            )
        days = 30 if recovery_days is None else recovery_days
        if not 7 <= days <= 30:
            raise invalid_parameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
            )
        with self._store.transaction():
            secret = self.find(secret_id)
            now = self.now()
            if force:
                self._store.delete(secret.name)
                return secret, now
            if secret.deleted is not None:
                raise marked_for_deletion()
            secret = replace(secret, deleted=now, recovery_days=days)
            self._put(secret)
        return secret, now + days * DAY

    def restore(self, secret_id: str) -> Secret:
        with self._store.transaction():
            secret = replace(self.find(secret_id), deleted=None, recovery_days=None)
            self._put(secret)
        return secret

    # -- tags and rotation settings --------------------------------------------------------------------
    def change(self, secret_id: str, edit: Callable[[Secret], Secret]) -> Secret:
        with self._store.transaction():
            secret = edit(self.active(secret_id))
            self._put(secret)
        return secret

    def tag(self, secret_id: str, tags: dict[str, str]) -> None:
        self.change(secret_id, lambda s: replace(s, tags={**s.tags, **tags}))

    def untag(self, secret_id: str, keys: Iterable[str]) -> None:
        dropped = set(keys)
        self.change(
            secret_id, lambda s: replace(s, tags={k: v for k, v in s.tags.items() if k not in dropped})
        )

    def set_policy(self, secret_id: str, document: str | None) -> Secret:
        if document is not None:
            check_policy(document)
        return self.change(secret_id, lambda s: replace(s, resource_policy=document))

    def configure_rotation(self, secret_id: str, function_arn: str, rules: RotationRules | None) -> Secret:
        if rules is not None:
            check_rules(rules)
        return self.change(
            secret_id,
            lambda s: replace(
                s,
                rotation_enabled=True,
                rotation_lambda=function_arn,
                rotation_rules=rules or s.rotation_rules,
            ),
        )

    def begin_rotation(
        self, secret_id: str, token: str | None, function_arn: str | None, rules: RotationRules | None
    ) -> tuple[Secret, str, bool]:
        """Record the rotation settings and the AWSPENDING version the rotation fills in. Returns the secret,
        the pending version id, and whether that is a previous, unfinished rotation being reattempted."""
        if rules is not None:
            check_rules(rules)
        with self._store.transaction():
            secret = self.active(secret_id)
            arn = function_arn or secret.rotation_lambda
            if arn is None:
                raise AwsError(
                    "InvalidRequestException",
                    "No Lambda rotation function ARN is associated with this secret.",
                )
            secret = replace(
                secret,
                rotation_enabled=True,
                rotation_lambda=arn,
                rotation_rules=rules or secret.rotation_rules,
            )
            pending = secret.version_with(PENDING)
            if pending is not None and CURRENT not in pending.stages:
                self._put(secret)
                return secret, pending.version_id, True
            version_id = token or str(uuid.uuid4())
            if version_id in secret.versions:
                raise AwsError(
                    "ResourceExistsException",
                    "You can't modify an existing version, you can only create a new version.",
                )
            secret = self._add_version(secret, SecretVersion(version_id, self.now()), (PENDING,))
            self._put(secret)
        return secret, version_id, False

    def finish_rotation(self, secret_id: str, version_id: str) -> bool:
        """After finishSecret: did AWSCURRENT move to the new version? Then AWSPENDING leaves it."""
        with self._store.transaction():
            secret = self.find(secret_id)
            version = secret.versions.get(version_id)
            if version is None or CURRENT not in version.stages:
                return False
            if PENDING in version.stages:
                secret = _strip_label(secret, PENDING)
            self._put(replace(secret, last_rotated=self.now()))
        return True

    def cancel_rotation(self, secret_id: str) -> tuple[Secret, str | None]:
        with self._store.transaction():
            secret = self.active(secret_id)
            pending = secret.version_with(PENDING)
            pending_id = pending.version_id if pending is not None and CURRENT not in pending.stages else None
            if pending_id is not None:
                secret = _strip_label(secret, PENDING)
            secret = replace(secret, rotation_enabled=False)
            self._put(secret)
        return secret, pending_id

    @staticmethod
    def next_rotation(secret: Secret) -> float | None:
        return next_rotation(secret)

    def _put(self, secret: Secret) -> None:
        self._store.put(secret, next_rotation(secret))

    def due_rotations(self) -> list[Secret]:
        """Secrets whose automatic rotation is due on the platform clock."""
        now = self.now()
        self._store.purge(now)
        return self._store.due_rotations(now)


def check_rules(rules: RotationRules) -> None:
    if rules.automatically_after_days is not None and rules.schedule_expression is not None:
        raise invalid_parameter("You can't specify both AutomaticallyAfterDays and ScheduleExpression.")
    if rules.schedule_expression is not None:
        try:
            schedule = parse_schedule(rules.schedule_expression)
        except AwsError:
            raise invalid_parameter(f"Invalid ScheduleExpression: {rules.schedule_expression}") from None
        if isinstance(schedule, Rate) and (schedule.period % 3600 or schedule.period < 4 * 3600):
            raise invalid_parameter(
                "The rotation schedule must be a rate of at least 4 hours, in hours or days."
            )


def next_rotation(secret: Secret) -> float | None:
    """When automatic rotation is next due: the interval after the last rotation (or the creation)."""
    rules = secret.rotation_rules
    if not secret.rotation_enabled or rules is None or secret.deleted is not None:
        return None
    base = secret.last_rotated or secret.created
    if rules.automatically_after_days is not None:
        return base + rules.automatically_after_days * DAY
    if rules.schedule_expression is not None:
        schedule = parse_schedule(rules.schedule_expression)
        return base + schedule.period if isinstance(schedule, Rate) else schedule.first_after(base)
    return None


def check_policy(document: str) -> None:
    """A resource policy must be a JSON policy document."""
    try:
        parsed = orjson.loads(document)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("Statement"), (list, dict)):
        raise AwsError("MalformedPolicyDocumentException", "This resource policy contains a syntax error.")


# -- labels ----------------------------------------------------------------------------------------------
def _strip_label(secret: Secret, label: str) -> Secret:
    versions = {
        vid: replace(v, stages=tuple(s for s in v.stages if s != label)) for vid, v in secret.versions.items()
    }
    return replace(secret, versions=versions)


def _move_label(secret: Secret, label: str, version_id: str) -> Secret:
    """Attach `label` to `version_id` only; moving AWSCURRENT turns the old current into AWSPREVIOUS."""
    old = secret.version_with(label)
    if old is not None and old.version_id == version_id:
        return secret
    secret = _strip_label(secret, label)
    if label == CURRENT and old is not None:
        secret = _move_label(secret, PREVIOUS, old.version_id)
    versions = dict(secret.versions)
    target = versions[version_id]
    versions[version_id] = replace(target, stages=(*target.stages, label))
    return replace(secret, versions=versions)


def _trim(secret: Secret) -> Secret:
    """At most MAX_VERSIONS versions: the oldest versions without a staging label go first."""
    versions = dict(secret.versions)
    for vid in [vid for vid, v in versions.items() if not v.stages]:
        if len(versions) <= MAX_VERSIONS:
            break
        del versions[vid]
    return replace(secret, versions=versions)


def _day(moment: float) -> float:
    return moment - moment % DAY
