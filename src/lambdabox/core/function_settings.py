"""Function-level settings that are not versioned: resource policy, tags, reserved concurrency,
and per-qualifier asynchronous invocation settings."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import TypeVar

import orjson

from lambdabox.core.concurrency import ConcurrencyLimiter
from lambdabox.core.functions import FunctionService, check_revision, new_revision
from lambdabox.core.models import LATEST, EventInvokeConfig, Function
from lambdabox.core.names import is_version
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import FunctionStore

MAX_POLICY_BYTES = 20 * 1024
MIN_UNRESERVED = 100
_ACCOUNT = re.compile(r"\d{12}")


def policy_principal(principal: str) -> object:
    """A resource policy's `Principal` for the principal AddPermission was given (as Lambda writes it):
    everyone, an account (its root), an IAM ARN, or a service."""
    if principal == "*":
        return "*"
    if _ACCOUNT.fullmatch(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


@dataclass(frozen=True)
class Permission:
    statement_id: str
    action: str
    principal: str
    source_arn: str | None = None
    source_account: str | None = None
    principal_org_id: str | None = None
    function_url_auth_type: str | None = None
    event_source_token: str | None = None


class FunctionSettings:
    def __init__(self, functions: FunctionService, store: FunctionStore, limiter: ConcurrencyLimiter) -> None:
        self._functions = functions
        self._store = store
        self._limiter = limiter
        for function in store.list_functions():
            limiter.set_reserved(function.name, function.reserved_concurrency)

    def _update(self, function: Function) -> None:
        self._store.put_function(function)

    def _check_qualifier(self, name: str, qualifier: str | None) -> None:
        if qualifier is None:
            return
        if is_version(qualifier):
            self._functions.version(name, qualifier)
        else:
            self._functions.alias(name, qualifier)

    # -- resource policy -------------------------------------------------------------------------------
    def add_permission(
        self, name: str, qualifier: str | None, permission: Permission, revision_id: str | None
    ) -> dict[str, object]:
        if qualifier == LATEST:
            raise AwsError(
                "InvalidParameterValueException", "We currently do not support adding policies for $LATEST."
            )
        with self._store.transaction():
            function = self._functions.function(name, qualifier)
            self._check_qualifier(name, qualifier)
            key = qualifier or ""
            self._check_policy_revision(function, key, revision_id)
            statements = list(function.policies.get(key, []))
            if any(s.get("Sid") == permission.statement_id for s in statements):
                raise AwsError(
                    "ResourceConflictException",
                    f"The statement id ({permission.statement_id}) provided already exists. Please provide a new "
                    "statement id, or remove the existing statement.",
                    409,
                )
            statement = self._statement(name, qualifier, permission)
            statements.append(statement)
            if len(orjson.dumps(self._policy_document(statements))) > MAX_POLICY_BYTES:
                raise AwsError(
                    "PolicyLengthExceededException", "The final policy size is bigger than the limit.", 400
                )
            self._update(
                replace(
                    function,
                    policies={**function.policies, key: statements},
                    policy_revisions={**function.policy_revisions, key: new_revision()},
                )
            )
        return statement

    def remove_permission(
        self, name: str, qualifier: str | None, statement_id: str, revision_id: str | None
    ) -> None:
        with self._store.transaction():
            function = self._functions.function(name, qualifier)
            self._check_qualifier(name, qualifier)
            key = qualifier or ""
            self._check_policy_revision(function, key, revision_id)
            statements = function.policies.get(key, [])
            kept = [s for s in statements if s.get("Sid") != statement_id]
            if len(kept) == len(statements):
                raise AwsError(
                    "ResourceNotFoundException",
                    f"Statement {statement_id} is not found in resource policy.",
                    404,
                )
            policies = {**function.policies, key: kept}
            if not kept:
                del policies[key]
            self._update(
                replace(
                    function,
                    policies=policies,
                    policy_revisions={**function.policy_revisions, key: new_revision()},
                )
            )

    def policy(self, name: str, qualifier: str | None) -> tuple[dict[str, object], str]:
        function = self._functions.function(name, qualifier)
        self._check_qualifier(name, qualifier)
        statements = function.policies.get(qualifier or "")
        if not statements:
            raise AwsError("ResourceNotFoundException", "The resource you requested does not exist.", 404)
        return self._policy_document(statements), function.policy_revisions.get(qualifier or "", "")

    def statements(self, name: str, qualifier: str | None) -> list[dict[str, object]]:
        """Statements that govern invoking `name` through `qualifier` (used by policy evaluation later)."""
        function = self._functions.function(name, qualifier)
        return list(function.policies.get(qualifier or "", []))

    @staticmethod
    def _policy_document(statements: list[dict[str, object]]) -> dict[str, object]:
        return {"Version": "2012-10-17", "Id": "default", "Statement": statements}

    @staticmethod
    def _check_policy_revision(function: Function, key: str, revision_id: str | None) -> None:
        check_revision(function.policy_revisions.get(key), revision_id, api="GetPolicy")

    def _statement(self, name: str, qualifier: str | None, permission: Permission) -> dict[str, object]:
        statement: dict[str, object] = {
            "Sid": permission.statement_id,
            "Effect": "Allow",
            "Principal": policy_principal(permission.principal),
            "Action": permission.action,
            "Resource": self._functions.account.function_arn(name, qualifier),
        }
        condition: dict[str, dict[str, str]] = {}
        if permission.source_account:
            condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = permission.source_account
        if permission.principal_org_id:
            condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = permission.principal_org_id
        if permission.function_url_auth_type:
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = (
                permission.function_url_auth_type
            )
        if permission.event_source_token:
            condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = (
                permission.event_source_token
            )
        if permission.source_arn:
            condition.setdefault("ArnLike", {})["AWS:SourceArn"] = permission.source_arn
        if condition:
            statement["Condition"] = condition
        return statement

    # -- tags ------------------------------------------------------------------------------------------
    def _tagged(self, name: str, qualifier: str | None) -> Function:
        if qualifier is not None:
            raise AwsError(
                "InvalidParameterValueException",
                "Tags on function aliases and versions are not supported. Please specify a function ARN.",
            )
        return self._functions.function(name)

    def tags(self, name: str, qualifier: str | None) -> dict[str, str]:
        return dict(self._tagged(name, qualifier).tags)

    def tag(self, name: str, qualifier: str | None, tags: dict[str, str]) -> None:
        with self._store.transaction():
            function = self._tagged(name, qualifier)
            self._update(replace(function, tags={**function.tags, **tags}))

    def untag(self, name: str, qualifier: str | None, keys: list[str]) -> None:
        with self._store.transaction():
            function = self._tagged(name, qualifier)
            self._update(replace(function, tags={k: v for k, v in function.tags.items() if k not in keys}))

    # -- reserved concurrency --------------------------------------------------------------------------
    def reserved_total(self, excluding: str | None = None) -> int:
        return sum(f.reserved_concurrency or 0 for f in self._store.list_functions() if f.name != excluding)

    def put_concurrency(self, name: str, qualifier: str | None, reserved: int) -> int:
        if qualifier is not None:
            raise AwsError(
                "InvalidParameterValueException",
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this "
                "operation. Please specify either a function name or an unqualified function ARN.",
            )
        with self._store.transaction():
            function = self._functions.function(name)
            if (
                self._limiter.account_limit - self._limiter.reserved_total(excluding=name) - reserved
                < MIN_UNRESERVED
            ):
                raise AwsError(
                    "InvalidParameterValueException",
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}].",
                )
            self._update(replace(function, reserved_concurrency=reserved))
        self._limiter.set_reserved(name, reserved)
        return reserved

    def account_limits(self) -> tuple[int, int]:
        """(account concurrency limit, unreserved concurrency)."""
        return self._limiter.account_limit, self._limiter.unreserved_limit

    def delete_concurrency(self, name: str, qualifier: str | None) -> None:
        with self._store.transaction():
            function = self._functions.function(name, qualifier)
            self._update(replace(function, reserved_concurrency=None))
        self._limiter.set_reserved(name, None)

    # -- asynchronous invocation settings --------------------------------------------------------------
    def event_invoke_config(self, name: str, qualifier: str | None) -> EventInvokeConfig:
        function = self._functions.function(name, qualifier)
        key = qualifier or LATEST
        config = function.event_invoke_configs.get(key)
        if config is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"The function {self._functions.account.function_arn(name, key)} doesn't have an EventInvokeConfig",
                404,
            )
        return config

    def effective_event_invoke_config(self, name: str, qualifier: str) -> EventInvokeConfig | None:
        function = self._store.get_function(name)
        return None if function is None else function.event_invoke_configs.get(qualifier)

    def put_event_invoke_config(
        self, name: str, qualifier: str | None, config: EventInvokeConfig, merge: bool
    ) -> EventInvokeConfig:
        if (
            config.maximum_retry_attempts is None
            and config.maximum_event_age_seconds is None
            and config.on_success is None
            and config.on_failure is None
        ):
            raise AwsError(
                "InvalidParameterValueException",
                "You must specify at least one of error handling or destination setting.",
            )
        own_arn = self._functions.account.function_arn(name)
        for destination in (config.on_success, config.on_failure):
            if destination and (destination == own_arn or destination.startswith(own_arn + ":")):
                raise AwsError(
                    "InvalidParameterValueException",
                    "You can't specify the function as a destination for itself.",
                )
        with self._store.transaction():
            function = self._functions.function(name, qualifier)
            self._check_qualifier(name, qualifier)
            key = qualifier or LATEST
            current = function.event_invoke_configs.get(key)
            if merge and current is None:
                raise AwsError(
                    "ResourceNotFoundException",
                    f"The function {self._functions.account.function_arn(name, key)} doesn't have an EventInvokeConfig",
                    404,
                )
            if merge and current is not None:
                config = EventInvokeConfig(
                    qualifier=key,
                    maximum_retry_attempts=_pick(
                        config.maximum_retry_attempts, current.maximum_retry_attempts
                    ),
                    maximum_event_age_seconds=_pick(
                        config.maximum_event_age_seconds, current.maximum_event_age_seconds
                    ),
                    on_success=_pick(config.on_success, current.on_success),
                    on_failure=_pick(config.on_failure, current.on_failure),
                )
            stored = replace(config, qualifier=key, last_modified=time.time())
            self._update(
                replace(function, event_invoke_configs={**function.event_invoke_configs, key: stored})
            )
        return stored

    def delete_event_invoke_config(self, name: str, qualifier: str | None) -> None:
        with self._store.transaction():
            self.event_invoke_config(name, qualifier)
            function = self._functions.function(name)
            key = qualifier or LATEST
            configs = {k: v for k, v in function.event_invoke_configs.items() if k != key}
            self._update(replace(function, event_invoke_configs=configs))

    def list_event_invoke_configs(self, name: str) -> list[EventInvokeConfig]:
        return list(self._functions.function(name).event_invoke_configs.values())


T = TypeVar("T")


def _pick(new: T | None, old: T | None) -> T | None:
    return new if new is not None else old
