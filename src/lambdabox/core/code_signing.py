"""Lambda code signing configurations and the check every code deployment passes.

A configuration lists the AWS Signer profile versions allowed to sign a function's code and what to do
with code they did not sign (`UntrustedArtifactOnDeployment`: Warn or Enforce). Lambdabox has no AWS
Signer, so no package it receives is signed: under `Enforce` every deployment (CreateFunction,
UpdateFunctionCode) of a function using the configuration is refused as AWS refuses unsigned code;
under `Warn` it is accepted and the warning is logged (AWS records a signature-validation metric).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Protocol

from lambdabox.core.functions import FunctionService, not_found, now_text
from lambdabox.core.names import Account
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.code_signing")

WARN = "Warn"
ENFORCE = "Enforce"
ARN_MARK = ":code-signing-config:"  # in a configuration's ARN (TagResource and friends name either kind)


@dataclass(frozen=True)
class CodeSigningConfig:
    config_id: str  # csc-<17 hex>
    arn: str
    signing_profile_version_arns: tuple[str, ...]
    untrusted_artifact_on_deployment: str
    description: str
    last_modified: str
    tags: dict[str, str] | None = None


class CodeSigningStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def get_signing_config(self, arn: str) -> CodeSigningConfig | None: ...
    def list_signing_configs(self) -> list[CodeSigningConfig]: ...  # oldest first
    def put_signing_config(self, config: CodeSigningConfig) -> None: ...
    def delete_signing_config(self, arn: str) -> None: ...
    def function_signing_config(self, function_name: str) -> str | None: ...
    def set_function_signing_config(self, function_name: str, arn: str | None) -> None: ...
    def functions_signed_by(self, arn: str) -> list[str]: ...  # function names, sorted


def new_config_id() -> str:
    return "csc-" + secrets.token_hex(9)[:17]


class CodeSigning:
    def __init__(
        self,
        store: CodeSigningStore,
        functions: FunctionService,
        account: Account,
        new_id: Callable[[], str] = new_config_id,
    ) -> None:
        self._store = store
        self._functions = functions
        self._account = account
        self._new_id = new_id

    # -- configurations --------------------------------------------------------------------------------
    def create(
        self,
        profiles: list[str],
        policy: str | None,
        description: str | None,
        tags: dict[str, str] | None,
    ) -> CodeSigningConfig:
        config_id = self._new_id()
        config = CodeSigningConfig(
            config_id=config_id,
            arn=f"arn:aws:lambda:{self._account.region}:{self._account.account_id}:code-signing-config:{config_id}",
            signing_profile_version_arns=_profiles(profiles),
            untrusted_artifact_on_deployment=policy or WARN,
            description=description or "",
            last_modified=now_text(),
            tags=dict(tags) if tags else None,
        )
        self._store.put_signing_config(config)
        return config

    def get(self, arn: str) -> CodeSigningConfig:
        config = self._store.get_signing_config(arn)
        if config is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"The Lambda code signing configuration {arn} can not be found.",
                404,
            )
        return config

    def update(
        self, arn: str, profiles: list[str] | None, policy: str | None, description: str | None
    ) -> CodeSigningConfig:
        with self._store.transaction():
            config = self.get(arn)
            updated = replace(
                config,
                signing_profile_version_arns=(
                    config.signing_profile_version_arns if profiles is None else _profiles(profiles)
                ),
                untrusted_artifact_on_deployment=policy or config.untrusted_artifact_on_deployment,
                description=config.description if description is None else description,
                last_modified=now_text(),
            )
            self._store.put_signing_config(updated)
        return updated

    def delete(self, arn: str) -> None:
        with self._store.transaction():
            self.get(arn)
            if self._store.functions_signed_by(arn):
                raise AwsError(
                    "ResourceConflictException",
                    f"The code signing configuration {arn} cannot be deleted because it is used by one "
                    "or more functions. Remove it from the functions first.",
                    409,
                )
            self._store.delete_signing_config(arn)

    def all(self) -> list[CodeSigningConfig]:
        return self._store.list_signing_configs()

    def functions_using(self, arn: str) -> list[str]:
        self.get(arn)
        return [self._account.function_arn(name) for name in self._store.functions_signed_by(arn)]

    # -- tags ------------------------------------------------------------------------------------------
    def tags(self, arn: str) -> dict[str, str]:
        return dict(self.get(arn).tags or {})

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        with self._store.transaction():
            config = self.get(arn)
            self._store.put_signing_config(replace(config, tags={**(config.tags or {}), **tags}))

    def untag(self, arn: str, keys: list[str]) -> None:
        with self._store.transaction():
            config = self.get(arn)
            kept = {k: v for k, v in (config.tags or {}).items() if k not in keys}
            self._store.put_signing_config(replace(config, tags=kept or None))

    # -- functions -------------------------------------------------------------------------------------
    def _existing(self, arn: str) -> CodeSigningConfig:
        config = self._store.get_signing_config(arn)
        if config is None:
            raise AwsError(
                "CodeSigningConfigNotFoundException",
                "The code signing configuration cannot be found. Check that the provided configuration "
                f"is not deleted: {arn}.",
                404,
            )
        return config

    def _function(self, name: str) -> None:
        """The function must exist (named by its unqualified ARN when it does not, as AWS names it)."""
        try:
            self._functions.function(name)
        except AwsError as error:
            raise not_found(self._account.function_arn(name)) from error

    def of_function(self, name: str) -> str | None:
        self._function(name)
        return self._store.function_signing_config(name)

    def put_for_function(self, name: str, arn: str) -> None:
        with self._store.transaction():
            self._existing(arn)
            self._function(name)
            self._store.set_function_signing_config(name, arn)

    def delete_for_function(self, name: str) -> None:
        with self._store.transaction():
            self._function(name)
            self._store.set_function_signing_config(name, None)

    # -- the deployment check (FunctionService's `CodeVerifier`) ---------------------------------------
    def check_deployment(self, name: str, config_arn: str | None, artifact: str | None = None) -> None:
        """New code for `name` (its package, or the layer version `artifact`), under `config_arn`
        (CreateFunction) or the function's own configuration. Nothing is signed here: Enforce refuses
        it, Warn lets it through with a warning."""
        arn = config_arn if config_arn is not None else self._store.function_signing_config(name)
        if not arn:
            return
        config = self._existing(arn)
        if config.untrusted_artifact_on_deployment == ENFORCE:
            raise AwsError(
                "CodeVerificationFailedException",
                "Lambda cannot deploy the function. The function or layer might be signed using a signature "
                "that the client is not configured to accept. Check the provided signature for "
                f"{artifact or name}.",
                400,
            )
        log.warning(
            "function %s: unsigned %s deployed under code signing configuration %s (Warn)",
            name,
            artifact or "code",
            arn,
        )

    def attach(self, name: str, config_arn: str) -> None:
        """CreateFunction's `CodeSigningConfigArn`, inside the transaction that creates the function."""
        self._store.set_function_signing_config(name, config_arn)


def _profiles(profiles: list[str]) -> tuple[str, ...]:
    if len(set(profiles)) != len(profiles):
        raise AwsError(
            "InvalidParameterValueException",
            "SigningProfileVersionArns must not contain duplicate signing profile version ARNs.",
        )
    for arn in profiles:
        if not _is_profile_version_arn(arn):
            raise AwsError(
                "InvalidParameterValueException",
                f"Invalid signing profile version ARN: {arn}. A signing profile version ARN looks like "
                "arn:aws:signer:<region>:<account>:/signing-profiles/<name>/<version>.",
            )
    return tuple(profiles)


def _is_profile_version_arn(arn: str) -> bool:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1].startswith("aws") or parts[2] != "signer":
        return False
    path = parts[5].split("/")
    return len(path) == 4 and path[0] == "" and path[1] == "signing-profiles" and all(path[2:])
