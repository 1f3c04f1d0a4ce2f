"""Aliases: named pointers to a version, optionally splitting traffic with one more version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lambdabox.core.functions import FunctionService, check_revision, new_revision
from lambdabox.core.models import LATEST, Alias
from lambdabox.core.names import VERSION_PATTERN
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import FunctionStore


class AliasService:
    def __init__(
        self,
        functions: FunctionService,
        store: FunctionStore,
        on_change: Callable[[str], None] = lambda name: None,
    ) -> None:
        self._functions = functions
        self._s = store
        self._on_change = on_change  # an alias moved or is gone (provisioned concurrency follows it)

    def create(
        self, name: str, alias_name: str, version: str, description: str, weights: dict[str, float]
    ) -> Alias:
        self._functions.function(name)
        if VERSION_PATTERN.fullmatch(alias_name) or alias_name == LATEST:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{alias_name}' at 'name' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            )
        self._check_target(name, version, weights)
        with self._s.transaction():
            if self._s.get_alias(name, alias_name) is not None:
                raise AwsError(
                    "ResourceConflictException",
                    f"Alias already exists: {self._functions.account.function_arn(name, alias_name)}",
                    409,
                )
            alias = Alias(name, alias_name, version, description, dict(weights), new_revision())
            self._s.put_alias(alias)
        return alias

    def get(self, name: str, alias_name: str) -> Alias:
        return self._functions.alias(name, alias_name)

    def list(self, name: str, version: str | None) -> list[Alias]:
        self._functions.function(name)
        aliases = self._s.list_aliases(name)
        if version is not None:
            aliases = [a for a in aliases if a.function_version == version]
        return aliases

    def update(
        self,
        name: str,
        alias_name: str,
        version: str | None,
        description: str | None,
        weights: dict[str, float] | None,
        revision_id: str | None,
    ) -> Alias:
        current = self._functions.alias(name, alias_name)
        check_revision(current.revision_id, revision_id)
        target = version if version is not None else current.function_version
        new_weights = dict(weights) if weights is not None else current.additional_weights
        self._check_target(name, target, new_weights)
        updated = replace(
            current,
            function_version=target,
            description=description if description is not None else current.description,
            additional_weights=new_weights,
            revision_id=new_revision(),
        )
        self._s.put_alias(updated)
        self._on_change(name)
        return updated

    def delete(self, name: str, alias_name: str) -> None:
        self._functions.function(name)
        self._s.delete_alias(name, alias_name)
        self._on_change(name)

    def _check_target(self, name: str, version: str, weights: dict[str, float]) -> None:
        self._functions.version(name, version)
        if len(weights) > 1:
            raise AwsError(
                "InvalidParameterValueException",
                "Number of items in AdditionalVersionWeights cannot be greater than 1",
            )
        for extra, weight in weights.items():
            if not 0.0 <= weight <= 1.0:
                raise AwsError(
                    "ValidationException",
                    f"1 validation error detected: Value '{weight}' at 'routingConfig.additionalVersionWeights' "
                    "failed to satisfy constraint: Map value must satisfy constraint: "
                    "[Member must have value less than or equal to 1.0, "
                    "Member must have value greater than or equal to 0.0]",
                )
            if extra == version:
                raise AwsError(
                    "InvalidParameterValueException",
                    f"Invalid function version {extra}. Function version {extra} is already included in "
                    "routing configuration.",
                )
            if LATEST in (extra, version):
                raise AwsError(
                    "InvalidParameterValueException",
                    "$LATEST is not supported for an alias pointing to more than 1 version",
                )
            self._functions.version(name, extra)
