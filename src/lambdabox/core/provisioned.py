"""Provisioned concurrency: environments initialized ahead of invocations for an alias or a version.

The configuration (requested count per qualifier) is stored with the function; the executor keeps that many
environments of the qualifier's version started and initialized and reports how many are ready. Status is
IN_PROGRESS until every requested environment has finished its Init phase, then READY; FAILED when Init
fails (the function's initialization code raised, or the runtime exited).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from lambdabox.core.concurrency import ConcurrencyLimiter
from lambdabox.core.function_settings import MIN_UNRESERVED
from lambdabox.core.functions import FunctionService, now_text
from lambdabox.core.models import LATEST, Function, FunctionVersion, ProvisionedConcurrencyConfig
from lambdabox.core.names import is_version
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import FunctionStore

Target = tuple[str, str]  # function name, qualifier (alias name or version number)


@dataclass(frozen=True)
class Allocation:
    """What the executor has for one target: environments initialized, and why it gave up, if it did."""

    ready: int = 0
    failure: str | None = None


class Provisioner(Protocol):
    """The execution side: keep `count` initialized environments of `version` for `target`."""

    def provision(self, target: Target, version: FunctionVersion | None, count: int) -> None: ...
    def allocation(self, target: Target) -> Allocation: ...
    def targets(self) -> set[Target]: ...


@dataclass(frozen=True)
class ProvisionedStatus:
    config: ProvisionedConcurrencyConfig
    allocated: int
    status: str  # IN_PROGRESS | READY | FAILED
    reason: str | None


class ProvisionedConcurrency:
    def __init__(
        self,
        functions: FunctionService,
        store: FunctionStore,
        limiter: ConcurrencyLimiter,
        provisioner: Provisioner,
    ) -> None:
        self._functions = functions
        self._store = store
        self._limiter = limiter
        self._provisioner = provisioner

    # -- API -------------------------------------------------------------------------------------------
    def put(self, name: str, qualifier: str | None, requested: int) -> ProvisionedStatus:
        qualifier = self._check_qualifier(name, qualifier)
        with self._store.transaction():
            function = self._functions.function(name, qualifier)
            version = self._version_of(name, qualifier)
            self._check_overlap(function, qualifier, version.version)
            others = sum(c.requested for q, c in function.provisioned_concurrency.items() if q != qualifier)
            self._check_capacity(function, others + requested)
            config = ProvisionedConcurrencyConfig(qualifier, requested, now_text())
            configs = {**function.provisioned_concurrency, qualifier: config}
            self._store.put_function(replace(function, provisioned_concurrency=configs))
        self._provisioner.provision((name, qualifier), version, requested)
        return self._status(name, config)

    def get(self, name: str, qualifier: str | None) -> ProvisionedStatus:
        qualifier = self._check_qualifier(name, qualifier)
        function = self._functions.function(name, qualifier)
        config = function.provisioned_concurrency.get(qualifier)
        if config is None:
            raise AwsError(
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
                404,
            )
        return self._status(name, config)

    def delete(self, name: str, qualifier: str | None) -> None:
        qualifier = self._check_qualifier(name, qualifier)
        with self._store.transaction():
            function = self._functions.function(name, qualifier)
            configs = {q: c for q, c in function.provisioned_concurrency.items() if q != qualifier}
            self._store.put_function(replace(function, provisioned_concurrency=configs))
        self._provisioner.provision((name, qualifier), None, 0)

    def list(self, name: str) -> list[ProvisionedStatus]:
        function = self._functions.function(name)
        return [self._status(name, c) for _, c in sorted(function.provisioned_concurrency.items())]

    # -- keeping the executor in line with the configuration --------------------------------------------
    def sync(self, name: str | None = None) -> None:
        """Provision what is configured (at start, and after a function, version or alias changed); drop
        configurations whose alias or version is gone, and environments nobody configured any more."""
        names = [name] if name is not None else [f.name for f in self._store.list_functions()]
        wanted: set[Target] = set()
        for function_name in names:
            function = self._store.get_function(function_name)
            if function is None:
                continue
            live: dict[str, ProvisionedConcurrencyConfig] = {}
            for qualifier, config in function.provisioned_concurrency.items():
                version = self._target_version(function_name, qualifier)
                if version is None:
                    continue
                live[qualifier] = config
                wanted.add((function_name, qualifier))
                self._provisioner.provision((function_name, qualifier), version, config.requested)
            if len(live) != len(function.provisioned_concurrency):
                with self._store.transaction():
                    self._store.put_function(replace(function, provisioned_concurrency=live))
        for target in self._provisioner.targets():
            if (name is None or target[0] == name) and target not in wanted:
                self._provisioner.provision(target, None, 0)

    # -- helpers ---------------------------------------------------------------------------------------
    def _status(self, name: str, config: ProvisionedConcurrencyConfig) -> ProvisionedStatus:
        allocation = self._provisioner.allocation((name, config.qualifier))
        allocated = min(allocation.ready, config.requested)
        if allocation.failure is not None:
            return ProvisionedStatus(config, allocated, "FAILED", allocation.failure)
        status = "READY" if allocated >= config.requested else "IN_PROGRESS"
        return ProvisionedStatus(config, allocated, status, None)

    def _check_qualifier(self, name: str, qualifier: str | None) -> str:
        if qualifier is None:
            self._functions.function(name)
            raise AwsError(
                "InvalidParameterValueException",
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
            )
        if qualifier == LATEST:
            raise AwsError(
                "InvalidParameterValueException",
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
            )
        return qualifier

    def _version_of(self, name: str, qualifier: str) -> FunctionVersion:
        if is_version(qualifier):
            return self._functions.version(name, qualifier)
        return self._functions.version(name, self._functions.alias(name, qualifier).function_version)

    def _check_overlap(self, function: Function, qualifier: str, version: str) -> None:
        """An alias and the version it points to cannot both be provisioned (AWS's conflict)."""
        for other in function.provisioned_concurrency:
            if other == qualifier:
                continue
            target = self._target_version(function.name, other)
            if target is None or target.version != version:
                continue
            if is_version(qualifier):
                message = "Version is already provisioned through the alias " + other
            else:
                message = "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
            raise AwsError("ResourceConflictException", message, 409)

    def _target_version(self, name: str, qualifier: str) -> FunctionVersion | None:
        if is_version(qualifier):
            return self._store.get_version(name, qualifier)
        alias = self._store.get_alias(name, qualifier)
        return None if alias is None else self._store.get_version(name, alias.function_version)

    def _check_capacity(self, function: Function, total: int) -> None:
        reserved = function.reserved_concurrency
        if reserved is not None:
            if total > reserved:
                raise AwsError(
                    "InvalidParameterValueException",
                    "Requested Provisioned Concurrency should not be greater than the "
                    "reservedConcurrentExecution for function",
                )
            return
        unreserved = self._limiter.account_limit - self._limiter.reserved_total()
        if unreserved - self._provisioned_elsewhere(function.name) - total < MIN_UNRESERVED:
            raise AwsError(
                "InvalidParameterValueException",
                "Specified ConcurrentExecutions for function is greater than account's unreserved "
                f"concurrency [{unreserved}]. Also, the account's UnreservedConcurrentExecution can't go below "
                f"its minimum value of [{MIN_UNRESERVED}].",
            )

    def _provisioned_elsewhere(self, name: str) -> int:
        return sum(
            sum(c.requested for c in f.provisioned_concurrency.values())
            for f in self._store.list_functions()
            if f.name != name and f.reserved_concurrency is None
        )
