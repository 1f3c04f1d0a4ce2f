"""Functions and their versions: create, read, update, publish, delete, and resolving what to run."""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Protocol

import orjson

from lambdabox.core.models import (
    LATEST,
    MAX_UNZIPPED_BYTES,
    Alias,
    Function,
    FunctionState,
    FunctionVersion,
    LayerRef,
    LoggingConfig,
    UpdateStatus,
)
from lambdabox.core.names import Account, FunctionRef, is_version
from lambdabox.core.runtimes import check_runtime
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import CodeStore, FunctionStore

MAX_ENVIRONMENT_BYTES = 4096
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

Defer = Callable[[Callable[[], None]], None]
# Makes a runtime ready to start environments (`runtime`, then `done` once it is, or once it cannot be): a
# function stays Pending, an update InProgress, until then, as on AWS while it provisions.
PrepareRuntime = Callable[[str, Callable[[], None]], None]


class LayerResolver(Protocol):
    """A function's `Layers` (version ARNs) checked and resolved to their content (core/layers/)."""

    def resolve(self, arns: Sequence[str]) -> tuple[LayerRef, ...]: ...


class CodeVerifier(Protocol):
    """Code signing (core/code_signing.py): may new code for a function be deployed?"""

    def check_deployment(  # config_arn None: the function's own; artifact: a layer version's ARN
        self, name: str, config_arn: str | None, artifact: str | None = None
    ) -> None: ...
    def attach(self, name: str, config_arn: str) -> None: ...  # CreateFunction's CodeSigningConfigArn


class EnvironmentKeys(Protocol):
    """The KMS keys that protect environment variables (core/kms/lambda_keys.py)."""

    def check_config(self, key_arn: str) -> None: ...  # KMSKeyArn on create/update: the key must exist
    def check_invocable(self, version: FunctionVersion) -> None: ...  # can its variables be decrypted now?


@dataclass(frozen=True)
class ConfigChanges:
    """Settable configuration; None means "not given" (keep the current or default value)."""

    runtime: str | None = None
    handler: str | None = None
    role: str | None = None
    description: str | None = None
    timeout: int | None = None
    memory_size: int | None = None
    ephemeral_storage: int | None = None
    environment: dict[str, str] | None = None
    tracing_mode: str | None = None
    layers: tuple[str, ...] | None = None
    logging: LoggingConfig | None = None
    dead_letter_target: str | None = None
    kms_key_arn: str | None = None
    architectures: tuple[str, ...] | None = None
    snap_start: str | None = None


@dataclass(frozen=True)
class Resolved:
    """What an invocation runs: a concrete version, and the ARN the caller addressed."""

    version: FunctionVersion
    invoked_arn: str
    qualifier: str  # as addressed: $LATEST, a number or an alias name


def now_text() -> str:
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


def new_revision() -> str:
    return str(uuid.uuid4())


def check_revision(expected: str | None, given: str | None, api: str = "GetFunction/GetAlias") -> None:
    """The optimistic-locking check of every `RevisionId` parameter."""
    if given is not None and given != expected:
        raise AwsError(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. "
            f"Call the {api} API to retrieve the latest Revision Id",
            412,
        )


class Snapshotter(Protocol):
    """SnapStart: initialize a published version once and keep the result to restore environments
    from; `done(None)` when the snapshot is ready, `done(reason)` when Init failed."""

    def snapshot(self, version: FunctionVersion, done: Callable[[str | None], None]) -> None: ...


def not_found(arn: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Function not found: {arn}", 404)


class FunctionService:
    def __init__(
        self,
        store: FunctionStore,
        code: CodeStore,
        account: Account,
        defer: Defer,
        on_change: Callable[[str], None] = lambda name: None,
        role_assumable: Callable[[str], bool] | None = None,
        environment_keys: EnvironmentKeys | None = None,
        snapshots: Snapshotter | None = None,
        layers: LayerResolver | None = None,
        code_verifier: CodeVerifier | None = None,
        prepare_runtime: PrepareRuntime | None = None,
    ) -> None:
        self._store = store
        self._code = code
        self.account = account
        self._defer = defer
        self._on_change = on_change  # execution environments of `name` must not be reused
        # Does the role exist and trust lambda.amazonaws.com? (None: no IAM, any role is accepted)
        self._role_assumable = role_assumable
        self._environment_keys = environment_keys
        self._snapshots = snapshots  # SnapStart: runs Init of each published version once
        self._layers = layers  # None: no layer can be found
        self.code_verifier = code_verifier  # code signing (None: no function has a configuration)
        self._prepare_runtime = prepare_runtime or (lambda runtime, done: done())

    # -- reading ---------------------------------------------------------------------------------------
    def function(self, name: str, qualifier: str | None = None) -> Function:
        function = self._store.get_function(name)
        if function is None:
            raise not_found(self.account.function_arn(name, qualifier or LATEST))
        return function

    def version(self, name: str, version: str = LATEST) -> FunctionVersion:
        found = self._store.get_version(name, version)
        if found is None:
            raise not_found(self.account.function_arn(name, version))
        return found

    def resolve(self, ref: FunctionRef, pick: Callable[[], float] = random.random) -> Resolved:
        """The version to run for `ref`; aliases with weighted routing pick one per call."""
        qualifier = ref.qualifier or LATEST
        invoked = self.account.function_arn(ref.name, ref.qualifier)
        if is_version(qualifier):
            resolved = Resolved(self.version(ref.name, qualifier), invoked, qualifier)
        else:
            alias = self.alias(ref.name, qualifier)
            target = alias.function_version
            for extra, weight in alias.additional_weights.items():
                if pick() < weight:
                    target = extra
            resolved = Resolved(self.version(ref.name, target), invoked, qualifier)
        if self._environment_keys is not None:
            self._environment_keys.check_invocable(resolved.version)
        return resolved

    def alias(self, name: str, alias_name: str) -> Alias:
        alias = self._store.get_alias(name, alias_name)
        if alias is None:
            self.function(name)
            raise AwsError(
                "ResourceNotFoundException",
                f"Alias not found: {self.account.function_arn(name, alias_name)}",
                404,
            )
        return alias

    def list_latest(self, all_versions: bool = False) -> list[FunctionVersion]:
        result: list[FunctionVersion] = []
        for function in self._store.list_functions():
            if all_versions:
                result.extend(self._store.list_versions(function.name))
            else:
                latest = self._store.get_version(function.name, LATEST)
                if latest is not None:
                    result.append(latest)
        return result

    def list_versions(self, name: str) -> list[FunctionVersion]:
        self.function(name)
        return self._store.list_versions(name)

    # -- creating and changing -------------------------------------------------------------------------
    def create(
        self,
        name: str,
        zip_file: bytes,
        changes: ConfigChanges,
        publish: bool,
        tags: dict[str, str],
        code_signing_config_arn: str | None = None,
    ) -> FunctionVersion:
        if changes.runtime is None:
            raise AwsError(
                "InvalidParameterValueException", "Runtime is required for .zip deployment packages."
            )
        if not changes.handler:
            raise AwsError(
                "InvalidParameterValueException", "Handler is required for .zip deployment packages."
            )
        _check_config(changes)
        self._check_role(changes.role)
        self._check_key(changes.kms_key_arn)
        self._check_absent(name)  # before storing the package; checked again where it counts, below
        if self.code_verifier is not None:
            # "" when none is given: a new function has no configuration of its own to fall back on
            self.code_verifier.check_deployment(name, code_signing_config_arn or "")
        layers = self._resolve_layers(changes.layers)
        code = self._code.put_zip(zip_file)
        assert changes.role is not None
        latest = _apply(
            FunctionVersion(
                name=name,
                version=LATEST,
                code=code,
                runtime=changes.runtime,
                handler=changes.handler,
                role=changes.role,
                last_modified=now_text(),
                revision_id=new_revision(),
            ),
            changes,
        )
        latest = self._apply_layers(latest, layers)
        with self._store.transaction():
            self._check_absent(name)
            self._store.put_function(Function(name=name, created=time.time(), tags=dict(tags)))
            self._store.put_version(latest)
            if code_signing_config_arn and self.code_verifier is not None:
                self.code_verifier.attach(name, code_signing_config_arn)
        self._defer(lambda: self._prepare_runtime(latest.runtime, lambda: self._activate(name)))
        if publish:
            return replace(
                self.publish(name, None, "", None, require_active=False), state=FunctionState.PENDING
            )
        return latest

    def _check_absent(self, name: str) -> None:
        if self._store.get_function(name) is not None:
            raise AwsError("ResourceConflictException", f"Function already exist: {name}", 409)

    def _activate(self, name: str) -> None:
        with self._store.transaction():
            for version in self._store.list_versions(name):
                if version.state is FunctionState.PENDING:
                    self._store.put_version(
                        replace(
                            version, state=FunctionState.ACTIVE, state_reason=None, state_reason_code=None
                        )
                    )

    def _check_updatable(self, current: FunctionVersion, revision_id: str | None) -> None:
        check_revision(current.revision_id, revision_id)
        if current.state is FunctionState.PENDING or current.last_update_status is UpdateStatus.IN_PROGRESS:
            raise AwsError(
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress for resource: "
                f"{self.account.function_arn(current.name)}",
                409,
            )

    def update_code(
        self, name: str, zip_file: bytes, publish: bool, dry_run: bool, revision_id: str | None
    ) -> FunctionVersion:
        current = self.version(name)
        self._check_updatable(current, revision_id)
        if self.code_verifier is not None:
            self.code_verifier.check_deployment(name, None)
        code = self._code.put_zip(zip_file)
        _check_size(code.unzipped_size, current.layers)
        updated = _in_progress(replace(current, code=code))
        if dry_run:
            return replace(current, code=code)
        return self._commit_update(updated, publish)

    def update_configuration(
        self, name: str, changes: ConfigChanges, revision_id: str | None
    ) -> FunctionVersion:
        current = self.version(name)
        self._check_updatable(current, revision_id)
        if changes.runtime is not None:
            check_runtime(changes.runtime)
        _check_config(changes)
        self._check_role(changes.role)
        self._check_key(changes.kms_key_arn)
        layers = self._resolve_layers(changes.layers)
        if layers and self.code_verifier is not None:  # layers are deployed code too
            used = {layer.arn for layer in current.layers}
            for layer in layers:
                if layer.arn not in used:
                    self.code_verifier.check_deployment(name, None, layer.arn)
        changed = self._apply_layers(_apply(current, changes), layers)
        return self._commit_update(_in_progress(changed), publish=False)

    def _resolve_layers(self, arns: tuple[str, ...] | None) -> tuple[LayerRef, ...] | None:
        """`Layers` as given (None: unchanged), checked and resolved; `[]` removes them."""
        if not arns:
            return None if arns is None else ()
        if self._layers is None:
            raise AwsError("InvalidParameterValueException", f"Layer version {arns[0]} does not exist.")
        return self._layers.resolve(arns)

    @staticmethod
    def _apply_layers(version: FunctionVersion, layers: tuple[LayerRef, ...] | None) -> FunctionVersion:
        if layers is None:
            return version
        _check_size(version.code.unzipped_size, layers)
        return replace(version, layers=layers)

    def _check_key(self, key_arn: str | None) -> None:
        if key_arn and self._environment_keys is not None:
            self._environment_keys.check_config(key_arn)

    def _check_role(self, role: str | None) -> None:
        if role is not None and self._role_assumable is not None and not self._role_assumable(role):
            raise AwsError(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            )

    def _commit_update(self, updated: FunctionVersion, publish: bool) -> FunctionVersion:
        with self._store.transaction():
            self._store.put_version(updated)
        self._on_change(updated.name)
        self._defer(lambda: self._prepare_runtime(updated.runtime, lambda: self._finish_update(updated.name)))
        if publish:
            self._finish_update(updated.name)
            return self.publish(updated.name, None, "", None)
        return updated

    def _finish_update(self, name: str) -> None:
        with self._store.transaction():
            current = self._store.get_version(name, LATEST)
            if current is not None and current.last_update_status is UpdateStatus.IN_PROGRESS:
                self._store.put_version(
                    replace(
                        current,
                        last_update_status=UpdateStatus.SUCCESSFUL,
                        last_update_status_reason=None,
                        last_update_status_reason_code=None,
                    )
                )

    def publish(
        self,
        name: str,
        code_sha256: str | None,
        description: str,
        revision_id: str | None,
        require_active: bool = True,
    ) -> FunctionVersion:
        with self._store.transaction():
            function = self.function(name)
            latest = self.version(name)
            if require_active:
                self._check_updatable(latest, revision_id)
            if code_sha256 is not None and code_sha256 != latest.code.sha256:
                raise AwsError(
                    "InvalidParameterValueException",
                    f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST "
                    f"({latest.code.sha256}). Please try again with the CodeSHA256 in $LATEST.",
                )
            versions = self._store.list_versions(name)
            newest = versions[-1] if len(versions) > 1 else None
            if newest is not None and _same_content(newest, latest):
                return newest
            number = str(function.last_published + 1)
            version = replace(
                latest,
                version=number,
                description=description or latest.description,
                revision_id=new_revision(),
                last_modified=now_text(),
                state=latest.state,
                last_update_status=None if latest.state is FunctionState.PENDING else UpdateStatus.SUCCESSFUL,
                last_update_status_reason=None,
                last_update_status_reason_code=None,
            )
            snapshot = version.snapshotted and self._snapshots is not None
            if snapshot:  # Pending until its snapshot exists, as on AWS
                version = replace(
                    version,
                    state=FunctionState.PENDING,
                    state_reason="The function is being created.",
                    state_reason_code="Creating",
                )
            self._store.put_function(replace(function, last_published=function.last_published + 1))
            self._store.put_version(version)
        if snapshot and self._snapshots is not None:
            self._snapshots.snapshot(version, functools.partial(self._snapshot_done, name, number))
        return version

    def _snapshot_done(self, name: str, number: str, error: str | None) -> None:
        with self._store.transaction():
            version = self._store.get_version(name, number)
            if version is None or version.state is not FunctionState.PENDING:
                return
            if error is None:
                version = replace(
                    version, state=FunctionState.ACTIVE, state_reason=None, state_reason_code=None
                )
            else:
                version = replace(
                    version,
                    state=FunctionState.FAILED,
                    state_reason=error,
                    state_reason_code="FunctionError.RuntimeInitError",
                )
            self._store.put_version(version)

    def delete(self, name: str, qualifier: str | None) -> None:
        self.function(name, qualifier)
        if qualifier is None:
            self._store.delete_function(name)
            self._on_change(name)
            return
        if qualifier == LATEST:
            raise AwsError(
                "InvalidParameterValueException",
                "$LATEST version cannot be deleted without deleting the function.",
            )
        if not is_version(qualifier):
            raise AwsError(
                "InvalidParameterValueException", "Deletion of aliases is not supported by DeleteFunction."
            )
        self.version(name, qualifier)
        for alias in self._store.list_aliases(name):
            if alias.function_version == qualifier or qualifier in alias.additional_weights:
                raise AwsError(
                    "ResourceConflictException",
                    f"Unable to delete version because the following aliases reference it: [{alias.name}]",
                    409,
                )
        self._store.delete_version(name, qualifier)
        self._on_change(name)


def _same_content(a: FunctionVersion, b: FunctionVersion) -> bool:
    ignored = {
        "description",
        "version",
        "revision_id",
        "last_modified",
        "state",
        "state_reason",
        "state_reason_code",
        "last_update_status",
        "last_update_status_reason",
        "last_update_status_reason_code",
    }
    return all(
        getattr(a, f.name) == getattr(b, f.name) for f in fields(FunctionVersion) if f.name not in ignored
    )


def _in_progress(version: FunctionVersion) -> FunctionVersion:
    return replace(
        version,
        last_modified=now_text(),
        revision_id=new_revision(),
        last_update_status=UpdateStatus.IN_PROGRESS,
        last_update_status_reason="The function is being created.",
        last_update_status_reason_code="Creating",
    )


def _apply(version: FunctionVersion, changes: ConfigChanges) -> FunctionVersion:
    updates = {
        f.name: getattr(changes, f.name)
        for f in fields(ConfigChanges)
        if getattr(changes, f.name) is not None and f.name != "layers"  # resolved: `_apply_layers`
    }
    if "dead_letter_target" in updates and updates["dead_letter_target"] == "":
        updates["dead_letter_target"] = None
    if "environment" in updates and not updates["environment"]:
        updates["environment"] = {}
    changed = replace(version, **updates)
    check_snap_start(changed.runtime, changed.snap_start)
    return changed


def _check_size(code_size: int, layers: Sequence[LayerRef]) -> None:
    total = code_size + sum(layer.code.unzipped_size for layer in layers)
    if layers and total > MAX_UNZIPPED_BYTES:
        raise AwsError(
            "InvalidParameterValueException",
            f"Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED_BYTES} "
            f"bytes. The actual size is {total} bytes.",
        )


# Runtimes with SnapStart (AWS: Java 11+, Python 3.12+, .NET 8+).
SNAPSTART_RUNTIMES = frozenset(
    {"java11", "java17", "java21", "java25", "python3.12", "python3.13", "python3.14", "dotnet8", "dotnet10"}
)


def check_snap_start(runtime: str, snap_start: str) -> None:
    if snap_start == "PublishedVersions" and runtime not in SNAPSTART_RUNTIMES:
        raise AwsError(
            "InvalidParameterValueException", f"{runtime} is not supported for SnapStart enabled functions."
        )


def _check_config(changes: ConfigChanges) -> None:
    if changes.runtime is not None:
        check_runtime(changes.runtime)
    if changes.environment is not None:
        reserved = sorted(k for k in changes.environment if k in RESERVED_VARIABLES)
        if reserved:
            raise AwsError(
                "InvalidParameterValueException",
                f"Lambda was unable to configure your environment variables because the environment variables "
                f"you have provided contains reserved keys that are currently not supported for modification. "
                f"Reserved keys used in this request: {', '.join(reserved)}",
            )
        measured = orjson.dumps(changes.environment).decode()
        if len(measured.encode()) > MAX_ENVIRONMENT_BYTES:
            raise AwsError(
                "InvalidParameterValueException",
                "Lambda was unable to configure your environment variables because the environment variables "
                f"you have provided exceeded the 4KB limit. String measured: {measured}",
            )
    if changes.architectures is not None and len(changes.architectures) != 1:
        raise AwsError(
            "ValidationException",
            "1 validation error detected: Value '["
            + ", ".join(changes.architectures)
            + "]' at 'architectures' "
            "failed to satisfy constraint: Member must have length less than or equal to 1",
        )
