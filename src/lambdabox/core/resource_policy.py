"""May an AWS service invoke a function? The function's resource policy, evaluated by the IAM policy engine
(`core/iam/policy.py`) for the service principal with `aws:SourceArn` and `aws:SourceAccount`, as Lambda does
when S3, EventBridge, Secrets Manager and other push sources invoke it. Checked on every such invocation."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.iam.policy import ANONYMOUS, Policy, Request, compile_policy, evaluate, service_principal
from lambdabox.core.names import Account, FunctionRef
from lambdabox.errors import AwsError


def function_policy(statements: Sequence[Mapping[str, Any]]) -> Policy:
    """A function's policy statements (as stored by AddPermission) as a compiled policy (cached)."""
    return compile_policy(orjson.dumps({"Version": "2012-10-17", "Statement": list(statements)}).decode())


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
    moment = time.time() if now is None else now
    keys = {
        **_time_keys(moment),
        "aws:sourcearn": [source_arn],
        "aws:sourceaccount": [source_account],
        "aws:principalservicename": [service],
    }
    request = Request(service_principal(service), "lambda:InvokeFunction", function_arn, keys)
    return evaluate(request, resource=function_policy(statements)).allowed


def everyone_may(
    statements: Sequence[Mapping[str, Any]], action: str, resource: str, keys: Mapping[str, Sequence[str]]
) -> bool:
    """Do `statements` allow an anonymous caller `action` on `resource` (a function URL of auth type NONE)?"""
    request = Request(ANONYMOUS, action, resource, {**_time_keys(time.time()), **keys})
    return evaluate(request, resource=function_policy(statements)).allowed


def _time_keys(moment: float) -> dict[str, Sequence[str]]:
    return {
        "aws:currenttime": [datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        "aws:epochtime": [str(int(moment))],
        "aws:securetransport": ["false"],
    }


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
