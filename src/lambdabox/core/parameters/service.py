"""Parameters: put (versions, tiers, patterns, SecureString through KMS), get by name, version, label or
path, describe with filters, history, labels, tags, delete; `/aws/reference/secretsmanager/` reads secrets."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import orjson

from lambdabox.core.clock import Clock
from lambdabox.core.kms.service import KmsService
from lambdabox.core.names import Account
from lambdabox.core.parameters import names
from lambdabox.core.parameters.models import (
    ADVANCED,
    INTELLIGENT_TIERING,
    SECURE_STRING,
    STANDARD,
    Parameter,
    ParameterVersion,
    Selected,
)
from lambdabox.core.parameters.store import ParameterStore
from lambdabox.core.secrets.service import SecretsService
from lambdabox.errors import AwsError

DEFAULT_KEY = "alias/aws/ssm"
MAX_VERSIONS = 100
MAX_LABELS = 10
STANDARD_LIMIT = 10_000
ADVANCED_LIMIT = 100_000
DATA_TYPES = ("text", "aws:ec2:image", "aws:ssm:integration")
_AMI = re.compile(r"ami-[0-9a-f]{8,17}")


def parameter_not_found(message: str = "") -> AwsError:
    return AwsError("ParameterNotFound", message)


def version_not_found(selector: str, name: str) -> AwsError:
    return AwsError(
        "ParameterVersionNotFound",
        f"Systems Manager could not find version {selector} of {name}. Verify the version and try again.",
    )


@dataclass(frozen=True)
class PutRequest:
    name: str
    value: str
    type: str | None = None
    overwrite: bool = False
    description: str | None = None
    key_id: str | None = None
    allowed_pattern: str | None = None
    tier: str | None = None
    data_type: str | None = None
    tags: dict[str, str] | None = None


@dataclass(frozen=True)
class Filter:
    key: str
    option: str
    values: tuple[str, ...]


class ParameterService:
    def __init__(
        self,
        store: ParameterStore,
        kms: KmsService,
        account: Account,
        clock: Clock,
        secrets: SecretsService | None = None,
    ) -> None:
        self._store = store
        self._kms = kms
        self.account = account
        self._clock = clock
        self._secrets = secrets
        self.user = f"arn:aws:iam::{account.account_id}:root"

    def arn(self, name: str) -> str:
        return names.arn(self.account.region, self.account.account_id, name)

    # -- writing ---------------------------------------------------------------------------------------
    def put(self, request: PutRequest) -> ParameterVersion:
        names.check_name(request.name)
        if not request.value:
            raise AwsError(
                "ValidationException",
                "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have "
                "length greater than or equal to 1.",
            )
        with self._store.transaction():
            existing = self._store.get(request.name)
            if existing is not None and not request.overwrite:
                raise AwsError(
                    "ParameterAlreadyExists",
                    "The parameter already exists. To overwrite this value, set the overwrite option in the "
                    "request to true.",
                )
            if existing is not None and request.tags:
                raise AwsError(
                    "ValidationException",
                    "Invalid request: tags and overwrite can't be used together. To create a parameter with "
                    "tags, please remove overwrite flag. To update tags for an existing parameter, please use "
                    "AddTagsToResource or RemoveTagsFromResource.",
                )
            previous = existing.current if existing is not None else None
            data_type = request.data_type or (previous.data_type if previous is not None else "text")
            _check_data_type(data_type, request.value)
            kind = request.type or (previous.type if previous is not None else None)
            if kind is None:
                raise AwsError(
                    "ValidationException", "A parameter type is required when you create a parameter."
                )
            if request.key_id is not None and kind != SECURE_STRING:
                raise AwsError(
                    "ValidationException", "KeyId is required for SecureString type parameter only."
                )
            tier = self._tier(request, previous)
            pattern = request.allowed_pattern
            if pattern is None and previous is not None:
                pattern = previous.allowed_pattern
            _check_pattern(pattern, request.value)
            key_id = None
            value = request.value
            if kind == SECURE_STRING:
                key_id = request.key_id or (previous.key_id if previous is not None else None) or DEFAULT_KEY
                value = self._encrypt(request.name, key_id, value)
            version = ParameterVersion(
                version=previous.version + 1 if previous is not None else 1,
                type=kind,
                value=value,
                modified=self._clock.now(),
                modified_by=self.user,
                key_id=key_id,
                description=request.description
                if request.description is not None
                else (previous.description if previous is not None else None),
                allowed_pattern=pattern,
                tier=tier,
                data_type=data_type,
            )
            if existing is None:
                self._check_count(tier)
                parameter = Parameter(request.name, (version,), dict(request.tags or {}))
            else:
                parameter = replace(existing, versions=(*self._room(existing), version))
            self._store.put(parameter, tier)
        return version

    def _tier(self, request: PutRequest, previous: ParameterVersion | None) -> str:
        size = len(request.value)
        tier = request.tier or (previous.tier if previous is not None else STANDARD)
        if tier == INTELLIGENT_TIERING:
            tier = (
                ADVANCED if size > 4096 or (previous is not None and previous.tier == ADVANCED) else STANDARD
            )
        if tier == STANDARD and previous is not None and previous.tier == ADVANCED:
            raise AwsError(
                "ValidationException",
                "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
                "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the "
                "advanced parameter and recreate it as a standard parameter.",
            )
        if tier == STANDARD and size > 4096:
            raise AwsError(
                "ValidationException",
                "Standard tier parameters support a maximum parameter value of 4096 characters. To create a "
                "larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more "
                "information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/"
                "parameter-store-advanced-parameters.html",
            )
        if size > 8192:
            raise AwsError(
                "ValidationException",
                "Advanced tier parameters support a maximum parameter value of 8192 characters.",
            )
        return tier

    def _check_count(self, tier: str) -> None:
        limit = ADVANCED_LIMIT if tier == ADVANCED else STANDARD_LIMIT
        if self._store.count(tier) >= limit:
            raise AwsError(
                "ParameterLimitExceeded",
                "You have exceeded the number of parameters for this AWS account. Delete parameters that you "
                "no longer use or upgrade to the advanced-parameter tier.",
            )

    @staticmethod
    def _room(parameter: Parameter) -> tuple[ParameterVersion, ...]:
        """Versions kept when one more is added: at most 100; the oldest goes, unless it has a label."""
        versions = parameter.versions
        if len(versions) < MAX_VERSIONS:
            return versions
        oldest = versions[0]
        if oldest.labels:
            raise AwsError(
                "ParameterMaxVersionLimitExceeded",
                f"You attempted to create a new version of {parameter.name} by calling the PutParameter API "
                f"with the overwrite flag. Version {oldest.version}, the oldest version, can't be deleted "
                "because it has a label associated with it. Move the label to another version of the "
                "parameter, and try again.",
            )
        return versions[1:]

    def _encrypt(self, name: str, key_id: str, value: str) -> str:
        try:
            _, blob = self._kms.encrypt(key_id, value.encode(), {"PARAMETER_ARN": self.arn(name)})
        except AwsError as error:
            raise AwsError("InvalidKeyId", error.message) from None
        return base64.b64encode(blob).decode()

    def reveal(self, name: str, version: ParameterVersion, decrypt: bool) -> str:
        if version.type != SECURE_STRING or not decrypt:
            return version.value
        try:
            return self._kms.decrypt(
                base64.b64decode(version.value), {"PARAMETER_ARN": self.arn(name)}
            ).plaintext.decode()
        except AwsError as error:
            raise AwsError("InvalidKeyId", error.message) from None

    # -- reading ---------------------------------------------------------------------------------------
    def parameter(self, name: str) -> Parameter | None:
        return self._store.get(name)

    def require(self, name: str, message: str = "") -> Parameter:
        found = self._store.get(name)
        if found is None:
            raise parameter_not_found(message)
        return found

    def get(self, reference: str, decrypt: bool) -> Selected:
        name, selector = names.split_selector(reference, self.account.region, self.account.account_id)
        if name.startswith(names.SECRETS_REFERENCE):
            return self._secret(name, selector, decrypt)
        parameter = self._store.get(name)
        if parameter is None and reference.startswith("arn:"):
            parameter = self._store.get(name[1:])
        if parameter is None:
            raise parameter_not_found()
        if selector is None:
            version = parameter.current
        elif selector.isdigit():
            found = parameter.version(int(selector))
            if found is None:
                raise version_not_found(selector, parameter.name)
            version = found
        else:
            labelled = parameter.labelled(selector)
            if labelled is None:
                raise version_not_found(selector, parameter.name)
            version = labelled
        return Selected(
            parameter.name,
            version,
            self.reveal(parameter.name, version, decrypt),
            f":{selector}" if selector is not None else None,
            self.arn(parameter.name),
        )

    def _secret(self, name: str, selector: str | None, decrypt: bool) -> Selected:
        if not decrypt:
            raise AwsError(
                "ValidationException",
                "WithDecryption flag must be True for retrieving a Secret Manager secret.",
            )
        if self._secrets is None:
            raise parameter_not_found()
        secret_id = name.removeprefix(names.SECRETS_REFERENCE)
        by_id = selector is not None and re.fullmatch(r"[0-9a-fA-F-]{32,64}", selector) is not None
        try:
            value = self._secrets.value(secret_id, selector if by_id else None, None if by_id else selector)
        except AwsError:
            raise parameter_not_found() from None
        text = value.string if value.string is not None else (value.binary or b"").decode(errors="replace")
        source = {
            "ARN": value.secret.arn,
            "Name": value.secret.name,
            "VersionId": value.version.version_id,
            "VersionStages": list(value.version.stages),
            "CreatedDate": value.version.created,
        }
        version = ParameterVersion(0, SECURE_STRING, text, value.version.created, self.user)
        return Selected(
            name,
            version,
            text,
            f":{selector}" if selector is not None else None,
            value.secret.arn,
            orjson.dumps(source).decode(),
        )

    def get_many(self, references: Iterable[str], decrypt: bool) -> tuple[list[Selected], list[str]]:
        found: list[Selected] = []
        invalid: list[str] = []
        for reference in dict.fromkeys(references):
            try:
                found.append(self.get(reference, decrypt))
            except AwsError as error:
                if error.code not in ("ParameterNotFound", "ParameterVersionNotFound"):
                    raise
                invalid.append(reference)
        return found, invalid

    def by_path(self, path: str, recursive: bool, filters: list[Filter], decrypt: bool) -> list[Selected]:
        names.check_path(path)
        for chosen in filters:
            if chosen.key in ("Name", "Path", "Tier", "DataType"):
                raise AwsError(
                    "InvalidFilterKey",
                    f"The following filter key is not valid: {chosen.key}. Valid filter keys include: "
                    "[Type, KeyId, Label, tag].",
                )
        prefix = path.rstrip("/") + "/"
        result: list[Selected] = []
        for parameter in self._store.list(prefix):
            rest = parameter.name[len(prefix) :]
            if not recursive and "/" in rest:
                continue
            version = _matching_version(parameter, filters)
            if version is None:
                continue
            result.append(
                Selected(
                    parameter.name,
                    version,
                    self.reveal(parameter.name, version, decrypt),
                    None,
                    self.arn(parameter.name),
                )
            )
        return result

    def describe(self, filters: list[Filter]) -> list[Parameter]:
        return [p for p in self._store.list() if _matching_version(p, filters) is not None]

    # -- deleting, labels, tags ------------------------------------------------------------------------
    def delete(self, name: str) -> None:
        with self._store.transaction():
            self.require(name, f"Parameter {name} not found.")
            self._store.delete(name)

    def delete_many(self, names_: Iterable[str]) -> tuple[list[str], list[str]]:
        deleted: list[str] = []
        invalid: list[str] = []
        for name in dict.fromkeys(names_):
            try:
                self.delete(name)
                deleted.append(name)
            except AwsError as error:
                if error.code != "ParameterNotFound":
                    raise
                invalid.append(name)
        return deleted, invalid

    def _edit_version(
        self, name: str, number: int | None, edit: Callable[[Parameter, ParameterVersion], Parameter]
    ) -> ParameterVersion:
        with self._store.transaction():
            parameter = self.require(name, f"Parameter {name} not found.")
            version = parameter.current if number is None else parameter.version(number)
            if version is None:
                raise version_not_found(str(number), name)
            parameter = edit(parameter, version)
            self._store.put(parameter, parameter.current.tier)
        return version

    def label(self, name: str, number: int | None, labels: list[str]) -> tuple[list[str], int]:
        invalid = [label for label in labels if names.label_problem(label)]
        valid = [label for label in dict.fromkeys(labels) if label not in invalid]

        def edit(parameter: Parameter, version: ParameterVersion) -> Parameter:
            merged = (*version.labels, *(label for label in valid if label not in version.labels))
            if len(merged) > MAX_LABELS:
                raise AwsError(
                    "ParameterVersionLabelLimitExceeded",
                    "A parameter version can have maximum 10 labels. Move one or more labels to another version "
                    "and try again.",
                )
            versions = tuple(
                replace(v, labels=merged)
                if v.version == version.version
                else replace(v, labels=tuple(label for label in v.labels if label not in valid))
                for v in parameter.versions
            )
            return replace(parameter, versions=versions)

        version = self._edit_version(name, number, edit)
        return invalid, version.version

    def unlabel(self, name: str, number: int, labels: list[str]) -> tuple[list[str], list[str]]:
        removed: list[str] = []

        def edit(parameter: Parameter, version: ParameterVersion) -> Parameter:
            removed.extend(label for label in dict.fromkeys(labels) if label in version.labels)
            kept = tuple(label for label in version.labels if label not in removed)
            versions = tuple(
                replace(v, labels=kept) if v.version == version.version else v for v in parameter.versions
            )
            return replace(parameter, versions=versions)

        self._edit_version(name, number, edit)
        return removed, [label for label in labels if label not in removed]

    def _tagged(self, resource_type: str, resource_id: str) -> Parameter:
        if resource_type != "Parameter":
            raise AwsError(
                "InvalidResourceType", "The resource type is not valid for tagging in Parameter Store."
            )
        name = resource_id
        if resource_id.startswith("arn:"):
            name, _ = names.split_selector(resource_id, self.account.region, self.account.account_id)
        found = self._store.get(name)
        if found is None:
            raise AwsError("InvalidResourceId", "The resource ID is not valid. Verify the ID and try again.")
        return found

    def tags(self, resource_type: str, resource_id: str) -> dict[str, str]:
        return self._tagged(resource_type, resource_id).tags

    def add_tags(self, resource_type: str, resource_id: str, tags: dict[str, str]) -> None:
        with self._store.transaction():
            parameter = self._tagged(resource_type, resource_id)
            merged = {**parameter.tags, **tags}
            if len(merged) > 50:
                raise AwsError("TooManyTagsError", "The Tags for the resource exceed the limit of 50 tags.")
            self._store.put(replace(parameter, tags=merged), parameter.current.tier)

    def remove_tags(self, resource_type: str, resource_id: str, keys: Iterable[str]) -> None:
        dropped = set(keys)
        with self._store.transaction():
            parameter = self._tagged(resource_type, resource_id)
            kept = {k: v for k, v in parameter.tags.items() if k not in dropped}
            self._store.put(replace(parameter, tags=kept), parameter.current.tier)


def _check_data_type(data_type: str, value: str) -> None:
    if data_type not in DATA_TYPES:
        raise AwsError(
            "ValidationException",
            f"The following data type is not supported: {data_type} (Data type names are all lowercase.)",
        )
    if data_type == "aws:ec2:image" and _AMI.fullmatch(value) is None:
        raise AwsError(
            "ValidationException",
            f"Parameter value, {value}, is not a valid image identifier (ami-xxxxxxxxxxxxxxxxx).",
        )


def _check_pattern(pattern: str | None, value: str) -> None:
    if pattern is None:
        return
    try:
        compiled = re.compile(pattern)
    except re.error:
        raise AwsError(
            "InvalidAllowedPatternException", f"The allowed pattern {pattern} is not valid."
        ) from None
    if compiled.fullmatch(value) is None:
        raise AwsError(
            "ParameterPatternMismatchException",
            f"Parameter value, cannot be validated against allowedPattern: {pattern}",
        )


# -- ParameterFilters ------------------------------------------------------------------------------------
_OPTIONS = {
    "Name": ("Equals", "BeginsWith", "Contains"),
    "Path": ("Recursive", "OneLevel"),
}
_EQUALS = ("Equals",)


def check_filter(chosen: Filter) -> None:
    key = chosen.key
    allowed = _OPTIONS.get(
        key,
        _EQUALS if key.startswith("tag:") or key in ("Type", "KeyId", "Label", "Tier", "DataType") else None,
    )
    if allowed is None:
        raise AwsError("InvalidFilterKey", f"The following filter key is not valid: {key}.")
    if chosen.option not in allowed and not (key in ("Type", "KeyId") and chosen.option == "BeginsWith"):
        raise AwsError(
            "InvalidFilterOption",
            f"The following filter option is not valid: {chosen.option}. Valid options include: "
            f"[{', '.join(allowed)}].",
        )


def _matches(parameter: Parameter, version: ParameterVersion, chosen: Filter) -> bool:
    key, option, values = chosen.key, chosen.option, chosen.values
    if key.startswith("tag:"):
        tag = key[4:]
        return tag in parameter.tags and (not values or parameter.tags[tag] in values)
    if key == "Path":
        result = False
        for path in values:
            prefix = path.rstrip("/") + "/"
            if parameter.name.startswith(prefix):
                rest = parameter.name[len(prefix) :]
                result = result or option == "Recursive" or "/" not in rest
        return result
    if key == "Label":
        return any(label in version.labels for label in values)
    field = {
        "Name": parameter.name,
        "Type": version.type,
        "KeyId": version.key_id or "",
        "Tier": version.tier,
        "DataType": version.data_type,
    }[key]
    if key == "Name":
        field = field.lstrip("/")
        values = tuple(v.lstrip("/") for v in values)
    if option == "BeginsWith":
        return any(field.startswith(v) for v in values)
    if option == "Contains":
        return any(v in field for v in values)
    return field in values


def _matching_version(parameter: Parameter, filters: list[Filter]) -> ParameterVersion | None:
    """The version a filtered read returns: the current one, or the one a Label filter names."""
    labels = [f for f in filters if f.key == "Label"]
    candidates = (
        [v for v in reversed(parameter.versions) if any(_matches(parameter, v, f) for f in labels)]
        if labels
        else [parameter.current]
    )
    for version in candidates:
        if all(_matches(parameter, version, f) for f in filters):
            return version
    return None
