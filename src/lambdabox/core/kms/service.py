"""KMS keys and aliases: lifecycle, resolution of every key reference form, and cryptographic operations."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import replace

from lambdabox.core.clock import Clock
from lambdabox.core.kms import crypto
from lambdabox.core.kms.models import Decrypted, KeyManager, KeyState, KmsAlias, KmsKey
from lambdabox.core.kms.store import KmsStore
from lambdabox.core.names import Account
from lambdabox.errors import AwsError

DAY = 86_400.0
# Services whose AWS-managed key (`alias/aws/<service>`) KMS creates the first time it is referenced.
MANAGED_SERVICES = ("secretsmanager", "ssm", "lambda", "s3", "sns", "sqs", "dynamodb", "ebs", "rds", "logs")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ARN = re.compile(
    r"arn:aws[\w-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>key|alias)/(?P<rest>.+)"
)
_ALIAS_NAME = re.compile(r"alias/[a-zA-Z0-9/_-]+")
DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}


def check_key_policy(document: str) -> None:
    try:
        parsed = json.loads(document)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("Statement"), (list, dict)):
        raise AwsError(
            "MalformedPolicyDocumentException", "The key policy is not a valid JSON policy document."
        )


def _check_policy_name(name: str) -> None:
    if name != "default":
        raise AwsError("NotFoundException", f"Policy {name} is not found.")


def invalid_ciphertext() -> AwsError:
    return AwsError("InvalidCiphertextException", "")


class KmsService:
    def __init__(self, store: KmsStore, account: Account, clock: Clock) -> None:
        self._store = store
        self.account = account
        self._clock = clock

    # -- names -----------------------------------------------------------------------------------------
    def key_arn(self, key_id: str) -> str:
        return f"arn:aws:kms:{self.account.region}:{self.account.account_id}:key/{key_id}"

    def alias_arn(self, name: str) -> str:
        return f"arn:aws:kms:{self.account.region}:{self.account.account_id}:{name}"

    def _not_found(self, key_id: str) -> AwsError:
        return AwsError("NotFoundException", f"Key '{self.key_arn(key_id)}' does not exist")

    # -- resolution ------------------------------------------------------------------------------------
    def _purge(self) -> None:
        """Delete the keys whose waiting period ended (platform clock), with their aliases."""
        self._store.purge(self._clock.now())

    def _key(self, key_id: str) -> KmsKey:
        found = self._store.get_key(key_id)
        if found is None:
            raise self._not_found(key_id)
        return found

    def resolve(self, ref: str, *, allow_alias: bool = True) -> KmsKey:
        """The key a `KeyId` names: key id, key ARN, alias name or alias ARN (an AWS-managed alias that
        does not exist yet creates its key)."""
        self._purge()
        match = _ARN.fullmatch(ref)
        if match is not None:
            if match["region"] != self.account.region or match["account"] != self.account.account_id:
                raise AwsError("NotFoundException", f"Invalid arn {match['region']}")
            if match["kind"] == "key":
                return self._key(match["rest"])
            ref = f"alias/{match['rest']}"
        if ref.startswith("alias/"):
            if not allow_alias:
                raise AwsError("ValidationException", "Aliases must refer to keys. Not aliases")
            alias = self._store.get_alias(ref)
            if alias is not None:
                return self._key(alias.key_id)
            if ref.removeprefix("alias/aws/") in MANAGED_SERVICES:
                return self._create_managed(ref)
            raise AwsError("NotFoundException", f"Alias {self.alias_arn(ref)} is not found.")
        if _UUID.fullmatch(ref) is None:
            raise AwsError("NotFoundException", f"Invalid keyId '{ref}'")
        return self._key(ref)

    def managed_key(self, service: str) -> KmsKey:
        """The AWS-managed key of `service` (`alias/aws/<service>`), created on first use."""
        return self.resolve(f"alias/aws/{service}")

    def _create_managed(self, alias_name: str) -> KmsKey:
        service = alias_name.removeprefix("alias/aws/")
        with self._store.transaction():
            existing = self._store.get_alias(alias_name)
            if existing is not None:
                return self._key(existing.key_id)
            key = self._new_key(
                f"Default key that protects my {service} resources when no other key is defined",
                KeyManager.AWS,
                {},
            )
            now = self._clock.now()
            self._store.put_alias(KmsAlias(alias_name, key.key_id, now, now))
        return key

    def _usable(self, key: KmsKey) -> KmsKey:
        if key.state is KeyState.DISABLED:
            raise AwsError("DisabledException", f"{self.key_arn(key.key_id)} is disabled.")
        if key.state is KeyState.PENDING_DELETION:
            raise AwsError("KMSInvalidStateException", f"{self.key_arn(key.key_id)} is pending deletion.")
        return key

    def usable(self, ref: str) -> KmsKey:
        """The key `ref` names, if it can encrypt and decrypt now (DisabledException, KMSInvalidState...)."""
        return self._usable(self.resolve(ref))

    # -- keys ------------------------------------------------------------------------------------------
    def _new_key(self, description: str, manager: KeyManager, tags: dict[str, str]) -> KmsKey:
        key = KmsKey(str(uuid.uuid4()), self._clock.now(), description, manager=manager, tags=tags)
        self._store.put_key(key, crypto.new_material())
        return key

    def create_key(
        self, description: str, key_usage: str, key_spec: str, tags: dict[str, str], policy: str | None = None
    ) -> KmsKey:
        if policy is not None:
            check_key_policy(policy)
        if key_spec != "SYMMETRIC_DEFAULT":
            raise AwsError(
                "UnsupportedOperationException",
                f"KeySpec {key_spec} is not supported by Lambdabox; only SYMMETRIC_DEFAULT keys are.",
            )
        if key_usage != "ENCRYPT_DECRYPT":
            raise AwsError(
                "ValidationException",
                f"KeyUsage {key_usage} is not compatible with KeySpec SYMMETRIC_DEFAULT",
            )
        with self._store.transaction():
            key = self._new_key(description, KeyManager.CUSTOMER, tags)
            if policy is not None:
                key = replace(key, policy=policy)
                self._store.put_key(key)
            return key

    def describe(self, ref: str) -> KmsKey:
        return self.resolve(ref)

    def list_keys(self) -> list[KmsKey]:
        self._purge()
        return self._store.list_keys()

    def _customer_key(self, ref: str) -> KmsKey:
        key = self.resolve(ref)
        if key.manager is KeyManager.AWS:
            raise AwsError(
                "UnsupportedOperationException",
                f"{self.key_arn(key.key_id)} is an AWS managed key and cannot be modified.",
            )
        return key

    def _set_state(self, ref: str, state: KeyState) -> None:
        with self._store.transaction():
            key = self._customer_key(ref)
            if key.state is KeyState.PENDING_DELETION:
                raise AwsError("KMSInvalidStateException", f"{self.key_arn(key.key_id)} is pending deletion.")
            self._store.put_key(replace(key, state=state))

    def enable(self, ref: str) -> None:
        self._set_state(ref, KeyState.ENABLED)

    def disable(self, ref: str) -> None:
        self._set_state(ref, KeyState.DISABLED)

    def schedule_deletion(self, ref: str, window_days: int) -> KmsKey:
        if not 7 <= window_days <= 30:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{window_days}' at 'pendingWindowInDays' failed to "
                "satisfy constraint: Member must have value between 7 and 30",
            )
        with self._store.transaction():
            key = self._customer_key(ref)
            if key.state is KeyState.PENDING_DELETION:
                raise AwsError("KMSInvalidStateException", f"{self.key_arn(key.key_id)} is pending deletion.")
            key = replace(
                key,
                state=KeyState.PENDING_DELETION,
                deletion_date=self._clock.now() + window_days * DAY,
                pending_window_days=window_days,
            )
            self._store.put_key(key)
        return key

    def cancel_deletion(self, ref: str) -> KmsKey:
        with self._store.transaction():
            key = self._customer_key(ref)
            if key.state is not KeyState.PENDING_DELETION:
                raise AwsError(
                    "KMSInvalidStateException", f"{self.key_arn(key.key_id)} is not pending deletion."
                )
            key = replace(key, state=KeyState.DISABLED, deletion_date=None, pending_window_days=None)
            self._store.put_key(key)
        return key

    def update_description(self, ref: str, description: str) -> None:
        with self._store.transaction():
            key = self._customer_key(ref)
            self._store.put_key(replace(key, description=description))

    def tag(self, ref: str, tags: dict[str, str]) -> None:
        with self._store.transaction():
            key = self._customer_key(ref)
            self._store.put_key(replace(key, tags={**key.tags, **tags}))

    def untag(self, ref: str, keys: list[str]) -> None:
        with self._store.transaction():
            key = self._customer_key(ref)
            self._store.put_key(replace(key, tags={k: v for k, v in key.tags.items() if k not in keys}))

    # -- key policy and rotation settings --------------------------------------------------------------
    def default_policy(self) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Id": "key-default-1",
                "Statement": [
                    {
                        "Sid": "Enable IAM User Permissions",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{self.account.account_id}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            },
            indent=2,
        )

    def policy(self, ref: str, name: str) -> str:
        key = self.resolve(ref)
        _check_policy_name(name)
        return key.policy or self.default_policy()

    def put_policy(self, ref: str, name: str, document: str) -> None:
        _check_policy_name(name)
        check_key_policy(document)
        with self._store.transaction():
            key = self._customer_key(ref)
            self._store.put_key(replace(key, policy=document))

    def rotation(self, ref: str) -> tuple[KmsKey, int | None]:
        """The key and its automatic rotation period (AWS-managed keys rotate every year)."""
        key = self.resolve(ref)
        return key, 365 if key.manager is KeyManager.AWS else key.rotation_period_days

    def set_rotation(self, ref: str, period_days: int | None) -> None:
        if period_days is not None and not 90 <= period_days <= 2560:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{period_days}' at 'rotationPeriodInDays' failed to "
                "satisfy constraint: Member must have value between 90 and 2560",
            )
        with self._store.transaction():
            key = self._customer_key(ref)
            self._usable(key)
            self._store.put_key(replace(key, rotation_period_days=period_days))

    # -- aliases ---------------------------------------------------------------------------------------
    def _check_alias_name(self, name: str) -> None:
        if not name.startswith("alias/"):
            raise AwsError(
                "ValidationException",
                'Alias must start with the prefix "alias/". Please see '
                "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
            )
        if _ALIAS_NAME.fullmatch(name) is None:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$",
            )
        if name.startswith("alias/aws/"):
            raise AwsError("NotAuthorizedException", f"Alias {self.alias_arn(name)} is reserved for AWS.")

    def create_alias(self, name: str, target: str) -> None:
        self._check_alias_name(name)
        with self._store.transaction():
            key = self._customer_key_for_alias(target)
            if self._store.get_alias(name) is not None:
                raise AwsError(
                    "AlreadyExistsException", f"An alias with the name {self.alias_arn(name)} already exists"
                )
            now = self._clock.now()
            self._store.put_alias(KmsAlias(name, key.key_id, now, now))

    def _customer_key_for_alias(self, target: str) -> KmsKey:
        key = self.resolve(target, allow_alias=False)
        if key.manager is KeyManager.AWS:
            raise AwsError(
                "UnsupportedOperationException",
                f"{self.key_arn(key.key_id)} is an AWS managed key and cannot have customer aliases.",
            )
        if key.state is KeyState.PENDING_DELETION:
            raise AwsError("KMSInvalidStateException", f"{self.key_arn(key.key_id)} is pending deletion.")
        return key

    def update_alias(self, name: str, target: str) -> None:
        self._check_alias_name(name)
        with self._store.transaction():
            alias = self._existing_alias(name)
            key = self._customer_key_for_alias(target)
            self._store.put_alias(replace(alias, key_id=key.key_id, updated=self._clock.now()))

    def _existing_alias(self, name: str) -> KmsAlias:
        alias = self._store.get_alias(name)
        if alias is None:
            raise AwsError("NotFoundException", f"Alias {self.alias_arn(name)} is not found.")
        return alias

    def delete_alias(self, name: str) -> None:
        if name.startswith("alias/aws/"):
            raise AwsError("NotAuthorizedException", f"Alias {self.alias_arn(name)} is reserved for AWS.")
        self._purge()
        self._existing_alias(name)
        self._store.delete_alias(name)

    def list_aliases(self, key_ref: str | None) -> list[KmsAlias]:
        self._purge()
        aliases = self._store.list_aliases()
        if key_ref is None:
            return aliases
        key = self.resolve(key_ref, allow_alias=False)
        return [alias for alias in aliases if alias.key_id == key.key_id]

    # -- cryptography ----------------------------------------------------------------------------------
    def _material(self, key: KmsKey) -> bytes:
        material = self._store.key_material(key.key_id)
        if material is None:  # deleted between two reads
            raise self._not_found(key.key_id)
        return material

    def encrypt(
        self, ref: str, plaintext: bytes, context: Mapping[str, str] | None = None
    ) -> tuple[KmsKey, bytes]:
        key = self.usable(ref)
        return key, crypto.seal(key.key_id, self._material(key), plaintext, context)

    def decrypt(
        self, blob: bytes, context: Mapping[str, str] | None = None, key_ref: str | None = None
    ) -> Decrypted:
        try:
            key_id = crypto.key_of(blob)
        except crypto.BadCiphertext:
            raise invalid_ciphertext() from None
        if key_ref is not None and self.resolve(key_ref).key_id != key_id:
            raise AwsError(
                "IncorrectKeyException",
                "The key ID in the request does not identify a CMK that can perform this operation.",
            )
        self._purge()
        key = self._store.get_key(key_id)
        if key is None:
            raise invalid_ciphertext()
        self._usable(key)
        try:
            return Decrypted(key.key_id, crypto.unseal(self._material(key), blob, context))
        except crypto.BadCiphertext:
            raise invalid_ciphertext() from None

    # -- for other services' data at rest (they hold a grant: the key's state is checked by them) -------
    def seal_at_rest(self, ref: str, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        key = self.resolve(ref)
        return crypto.seal(key.key_id, self._material(key), plaintext, context)

    def open_at_rest(self, blob: bytes, context: Mapping[str, str]) -> bytes:
        """The plaintext of a blob sealed by `seal_at_rest`, whatever its key's state (BadCiphertext or
        NotFoundException when it cannot be opened)."""
        key = self._key(crypto.key_of(blob))
        return crypto.unseal(self._material(key), blob, context)

    def re_encrypt(
        self,
        blob: bytes,
        source_context: Mapping[str, str] | None,
        source_ref: str | None,
        destination_ref: str,
        destination_context: Mapping[str, str] | None,
    ) -> tuple[str, KmsKey, bytes]:
        opened = self.decrypt(blob, source_context, source_ref)
        key, sealed = self.encrypt(destination_ref, opened.plaintext, destination_context)
        return opened.key_id, key, sealed

    def generate_data_key(
        self, ref: str, key_spec: str | None, number_of_bytes: int | None, context: Mapping[str, str] | None
    ) -> tuple[KmsKey, bytes, bytes]:
        if (key_spec is None) == (number_of_bytes is None):
            raise AwsError("ValidationException", "Please specify either number of bytes or key spec.")
        size = DATA_KEY_BYTES[key_spec] if key_spec is not None else number_of_bytes
        assert size is not None
        plaintext = os.urandom(size)
        key, blob = self.encrypt(ref, plaintext, context)
        return key, plaintext, blob

    @staticmethod
    def generate_random(number_of_bytes: int) -> bytes:
        return os.urandom(number_of_bytes)
