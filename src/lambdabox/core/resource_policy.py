"""May an AWS service invoke a function? The function's resource policy, evaluated by the IAM policy engine
(`core/iam/policy.py`) for the service principal with `aws:SourceArn` and `aws:SourceAccount`, as Lambda does
when S3, EventBridge, Secrets Manager and other push sources invoke it. Checked on every such invocation."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson

from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.iam.policy import (
    ANONYMOUS,
    Policy,
    Principal,
    Request,
    compile_policy,
    evaluate,
    service_principal,
    time_keys,
)
from lambdabox.core.names import Account, FunctionRef
from lambdabox.errors import AwsError


def function_policy(statements: Sequence[Mapping[str, Any]]) -> Policy:
    """A function's policy statements (as stored by AddPermission) as a compiled policy (cached)."""
    return compile_policy(_policy_text(statements))


def _policy_text(statements: Sequence[Mapping[str, Any]]) -> str:
    return orjson.dumps({"Version": "2012-10-17", "Statement": list(statements)}).decode()


def service_may_invoke(
    statements: Sequence[Mapping[str, Any]],
    service: str,
    function_arn: str,
    source_arn: str,
    source_account: str,
    now: float | None = None,
) -> bool:
    """Do `statements` let AWS service `service` (`s3.amazonaws.com`) invoke `function_arn` (qualified as
    invoked) for events of `source_arn`?"""
    keys = {
        "aws:sourcearn": [source_arn],
        "aws:sourceaccount": [source_account],
        "aws:principalservicename": [service],
    }
    return _allows(statements, service_principal(service), "lambda:InvokeFunction", function_arn, keys, now)


def everyone_may(
    statements: Sequence[Mapping[str, Any]], action: str, resource: str, keys: Mapping[str, Sequence[str]]
) -> bool:
    """Do `statements` allow an anonymous caller `action` on `resource` (a function URL of auth type NONE)?"""
    return _allows(statements, ANONYMOUS, action, resource, keys, None)


def _allows(
    statements: Sequence[Mapping[str, Any]],
    principal: Principal,
    action: str,
    resource: str,
    keys: Mapping[str, Sequence[str]],
    now: float | None,
) -> bool:
    """Asked on every function URL request and every event a service pushes: the answer is remembered for
    the rest of the second, the granularity of the only keys that change on their own (aws:CurrentTime,
    aws:EpochTime)."""
    frozen = tuple((key, tuple(values)) for key, values in keys.items())
    second = int(time.time() if now is None else now)
    return _decide(_policy_text(statements), principal, action, resource, frozen, second)


@lru_cache(maxsize=1024)
def _decide(
    policy: str,
    principal: Principal,
    action: str,
    resource: str,
    keys: tuple[tuple[str, tuple[str, ...]], ...],
    second: int,
) -> bool:
    request = Request(
        principal, action, resource, {**time_keys(second), "aws:securetransport": ("false",), **dict(keys)}
    )
    return evaluate(request, resource=compile_policy(policy)).allowed


def invocation_allowed(
    settings: FunctionSettings, account: Account, ref: FunctionRef, principal: str, source_arn: str
) -> bool:
    """Does the policy of the function (or of the qualifier `ref` names) allow `principal` for `source_arn`?
    A function that does not exist allows nothing."""
    try:
        statements = settings.statements(ref.name, ref.qualifier)
    except AwsError:
        return False
    function_arn = account.function_arn(ref.name, ref.qualifier)
    return service_may_invoke(statements, principal, function_arn, source_arn, account.account_id)
