"""Layers as the Lambda API has them: publish numbered versions, read, list, delete, a resource policy per
version, and the check of a function's `Layers` (at most five existing versions, one per layer)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import orjson

from lambdabox.core.function_settings import MAX_POLICY_BYTES, policy_principal
from lambdabox.core.functions import check_revision, new_revision, now_text
from lambdabox.core.layers.models import LayerVersion
from lambdabox.core.layers.store import LayerStore
from lambdabox.core.models import CodeRef, LayerRef
from lambdabox.core.names import Account
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import CodeStore

MAX_FUNCTION_LAYERS = 5
_LAYER_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:(?P<name>[a-zA-Z0-9-_]+)"
    r"(?::(?P<version>[0-9]+))?"
)


def not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "The resource you requested does not exist.", 404)


def _matches(version: LayerVersion, runtime: str | None, architecture: str | None) -> bool:
    return (runtime is None or runtime in version.compatible_runtimes) and (
        architecture is None or architecture in version.compatible_architectures
    )


class LayerService:
    def __init__(self, store: LayerStore, code: CodeStore, account: Account) -> None:
        self._store = store
        self._code = code
        self.account = account

    # -- names -----------------------------------------------------------------------------------------
    def layer_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.account.region}:{self.account.account_id}:layer:{name}"

    def version_arn(self, name: str, version: int) -> str:
        return f"{self.layer_arn(name)}:{version}"

    def _own(self, region: str, account: str) -> bool:
        return region == self.account.region and account == self.account.account_id

    def layer_name(self, name_or_arn: str) -> str:
        """`LayerName` as the API takes it: a name, or the layer's ARN (another account's: not found)."""
        match = _LAYER_ARN.fullmatch(name_or_arn)
        if match is None:
            return name_or_arn
        if match.group("version") is not None or not self._own(match.group("region"), match.group("account")):
            raise not_found()
        return match.group("name")

    # -- versions --------------------------------------------------------------------------------------
    def publish(
        self,
        name_or_arn: str,
        zip_file: bytes,
        description: str = "",
        runtimes: Sequence[str] = (),
        architectures: Sequence[str] = (),
        license_info: str | None = None,
    ) -> LayerVersion:
        name = self.layer_name(name_or_arn)
        code = self._code.put_zip(zip_file)  # checked and unpacked once, content-addressed
        with self._store.transaction():
            record = LayerVersion(
                name=name,
                version=self._store.next_version(name),
                code=code,
                created=now_text(),
                description=description,
                compatible_runtimes=tuple(runtimes),
                compatible_architectures=tuple(architectures),
                license_info=license_info,
            )
            self._store.put(record)
        return record

    def get(self, name_or_arn: str, version: int) -> LayerVersion:
        found = self._store.get(self.layer_name(name_or_arn), version)
        if found is None or found.deleted:
            raise not_found()
        return found

    def get_by_arn(self, arn: str) -> LayerVersion:
        match = _LAYER_ARN.fullmatch(arn)
        if match is None or match.group("version") is None:
            raise AwsError("InvalidParameterValueException", f"Invalid Layer Version Arn: {arn}")
        if not self._own(match.group("region"), match.group("account")):
            raise not_found()
        return self.get(match.group("name"), int(match.group("version")))

    def list_versions(
        self, name_or_arn: str, runtime: str | None = None, architecture: str | None = None
    ) -> list[LayerVersion]:
        """Newest first; a layer without versions has an empty list, as on AWS."""
        versions = self._store.list_versions(self.layer_name(name_or_arn))
        return [v for v in versions if _matches(v, runtime, architecture)]

    def list_layers(self, runtime: str | None = None, architecture: str | None = None) -> list[LayerVersion]:
        """Each layer's latest version that matches the filters, by layer name."""
        latest: list[LayerVersion] = []
        for name in self._store.list_names():
            matching = self.list_versions(name, runtime, architecture)
            if matching:
                latest.append(matching[0])
        return latest

    def contents(self) -> list[CodeRef]:
        """The packages of every version not deleted (deleted ones live on in the functions using them)."""
        return [v.code for name in self._store.list_names() for v in self._store.list_versions(name)]

    def delete(self, name_or_arn: str, version: int) -> None:
        """Idempotent. The content stays: functions that use the version keep running it."""
        name = self.layer_name(name_or_arn)
        with self._store.transaction():
            found = self._store.get(name, version)
            if found is not None and not found.deleted:
                self._store.put(replace(found, deleted=True, statements=(), policy_revision=""))

    # -- resource policy -------------------------------------------------------------------------------
    def add_permission(
        self,
        name_or_arn: str,
        version: int,
        statement_id: str,
        action: str,
        principal: str,
        organization_id: str | None = None,
        revision_id: str | None = None,
    ) -> tuple[dict[str, object], str]:
        """The statement added and the policy's new RevisionId."""
        with self._store.transaction():
            record = self.get(name_or_arn, version)
            check_revision(record.policy_revision or None, revision_id, api="GetLayerVersionPolicy")
            if any(s.get("Sid") == statement_id for s in record.statements):
                raise AwsError(
                    "ResourceConflictException",
                    f"The statement id ({statement_id}) provided already exists. Please provide a new "
                    "statement id, or remove the existing statement.",
                    409,
                )
            statement: dict[str, object] = {
                "Sid": statement_id,
                "Effect": "Allow",
                "Principal": policy_principal(principal),
                "Action": action,
                "Resource": self.version_arn(record.name, record.version),
            }
            if organization_id:
                statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
            statements = (*record.statements, statement)
            if len(orjson.dumps(_document(statements))) > MAX_POLICY_BYTES:
                raise AwsError(
                    "PolicyLengthExceededException", "The final policy size is bigger than the limit.", 400
                )
            revision = new_revision()
            self._store.put(replace(record, statements=statements, policy_revision=revision))
        return statement, revision

    def remove_permission(
        self, name_or_arn: str, version: int, statement_id: str, revision_id: str | None = None
    ) -> None:
        with self._store.transaction():
            record = self.get(name_or_arn, version)
            check_revision(record.policy_revision or None, revision_id, api="GetLayerVersionPolicy")
            kept = tuple(s for s in record.statements if s.get("Sid") != statement_id)
            if len(kept) == len(record.statements):
                raise AwsError(
                    "ResourceNotFoundException",
                    f"Statement {statement_id} is not found in resource policy.",
                    404,
                )
            self._store.put(replace(record, statements=kept, policy_revision=new_revision()))

    def policy(self, name_or_arn: str, version: int) -> tuple[dict[str, object], str]:
        record = self.get(name_or_arn, version)
        if not record.statements:
            raise AwsError(
                "ResourceNotFoundException", "No policy is associated with the given resource.", 404
            )
        return _document(record.statements), record.policy_revision

    # -- functions' layers -----------------------------------------------------------------------------
    def resolve(self, arns: Sequence[str]) -> tuple[LayerRef, ...]:
        """A function's `Layers`, checked as AWS checks them, with each version's content. Versions already
        deleted are refused here (a function that uses one keeps its content: `LayerRef.code`)."""
        if len(arns) > MAX_FUNCTION_LAYERS:
            raise AwsError("InvalidParameterValueException", "Cannot reference more than 5 layers.")
        seen: dict[str, str] = {}
        wanted: list[tuple[str, re.Match[str]]] = []
        for arn in arns:
            match = _LAYER_ARN.fullmatch(arn)
            if match is None or match.group("version") is None:
                raise AwsError("InvalidParameterValueException", f"Layer version {arn} does not exist.")
            layer = arn.rsplit(":", 1)[0]
            if layer in seen:
                raise AwsError(
                    "InvalidParameterValueException",
                    "Two different versions of the same layer are not allowed to be referenced in the same "
                    f"function. {seen[layer]} and {arn} are versions of the same layer.",
                )
            seen[layer] = arn
            wanted.append((arn, match))
        refs: list[LayerRef] = []
        for arn, match in wanted:
            name, number = match.group("name"), int(match.group("version"))
            own = self._own(match.group("region"), match.group("account"))
            found = self._store.get(name, number) if own else None
            if found is None or found.deleted:
                raise AwsError("InvalidParameterValueException", f"Layer version {arn} does not exist.")
            refs.append(LayerRef(arn=self.version_arn(name, number), code=found.code))
        return tuple(refs)


def _document(statements: Sequence[dict[str, object]]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}
