"""Aliases, reserved concurrency, resource policy, tags, event-invoke configs, account settings."""

from __future__ import annotations

from typing import Any

import orjson

from lambdabox.api.lambda_.context import Call, Output
from lambdabox.api.lambda_.shapes import alias_configuration, event_invoke_config, paginate
from lambdabox.core.function_settings import Permission
from lambdabox.core.models import EventInvokeConfig
from lambdabox.core.names import parse_function_ref
from lambdabox.errors import AwsError

# -- aliases -----------------------------------------------------------------------------------------


def _weights(params: dict[str, Any]) -> dict[str, float] | None:
    routing = params.get("RoutingConfig")
    if routing is None:
        return None
    return {k: float(v) for k, v in (routing.get("AdditionalVersionWeights") or {}).items()}


def create_alias(call: Call) -> Output:
    p = call.params
    alias = call.deps.aliases.create(
        call.unqualified_name(),
        p["Name"],
        p["FunctionVersion"],
        p.get("Description") or "",
        _weights(p) or {},
    )
    return alias_configuration(alias, call.deps.account)


def get_alias(call: Call) -> Output:
    return alias_configuration(
        call.deps.aliases.get(call.unqualified_name(), call.params["Name"]), call.deps.account
    )


def update_alias(call: Call) -> Output:
    p = call.params
    alias = call.deps.aliases.update(
        call.unqualified_name(),
        p["Name"],
        p.get("FunctionVersion"),
        p.get("Description"),
        _weights(p),
        p.get("RevisionId"),
    )
    return alias_configuration(alias, call.deps.account)


def delete_alias(call: Call) -> Output:
    call.deps.aliases.delete(call.unqualified_name(), call.params["Name"])
    return None


def list_aliases(call: Call) -> Output:
    aliases = call.deps.aliases.list(call.unqualified_name(), call.params.get("FunctionVersion"))
    page, marker = paginate(aliases, call.params.get("Marker"), call.params.get("MaxItems"), 50)
    output: dict[str, Any] = {"Aliases": [alias_configuration(a, call.deps.account) for a in page]}
    if marker:
        output["NextMarker"] = marker
    return output


# -- reserved concurrency ----------------------------------------------------------------------------


def put_function_concurrency(call: Call) -> Output:
    ref = call.ref(qualifier_member=None)
    reserved = call.deps.settings.put_concurrency(
        ref.name, ref.qualifier, call.params["ReservedConcurrentExecutions"]
    )
    return {"ReservedConcurrentExecutions": reserved}


def get_function_concurrency(call: Call) -> Output:
    ref = call.ref(qualifier_member=None)
    function = call.deps.functions.function(ref.name)
    if function.reserved_concurrency is None:
        return {}
    return {"ReservedConcurrentExecutions": function.reserved_concurrency}


def delete_function_concurrency(call: Call) -> Output:
    ref = call.ref(qualifier_member=None)
    if ref.qualifier is not None:
        raise AwsError(
            "InvalidParameterValueException",
            "This operation is permitted on Lambda functions only. Aliases and versions do not support this "
            "operation. Please specify either a function name or an unqualified function ARN.",
        )
    call.deps.settings.delete_concurrency(ref.name, None)
    return None


# -- resource policy ---------------------------------------------------------------------------------


def add_permission(call: Call) -> Output:
    p = call.params
    ref = call.ref()
    statement = call.deps.settings.add_permission(
        ref.name,
        ref.qualifier,
        Permission(
            statement_id=p["StatementId"],
            action=p["Action"],
            principal=p["Principal"],
            source_arn=p.get("SourceArn"),
            source_account=p.get("SourceAccount"),
            principal_org_id=p.get("PrincipalOrgID"),
            function_url_auth_type=p.get("FunctionUrlAuthType"),
            event_source_token=p.get("EventSourceToken"),
        ),
        p.get("RevisionId"),
    )
    return {"Statement": orjson.dumps(statement).decode()}


def remove_permission(call: Call) -> Output:
    ref = call.ref()
    call.deps.settings.remove_permission(
        ref.name, ref.qualifier, call.params["StatementId"], call.params.get("RevisionId")
    )
    return None


def get_policy(call: Call) -> Output:
    ref = call.ref()
    document, revision = call.deps.settings.policy(ref.name, ref.qualifier)
    return {"Policy": orjson.dumps(document).decode(), "RevisionId": revision}


# -- tags --------------------------------------------------------------------------------------------


def _tag_target(call: Call) -> tuple[str, str | None]:
    arn = call.params["Resource"]
    if not arn.startswith("arn:"):
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{arn}' at 'resource' failed to satisfy constraint: Member must be an ARN",
        )
    ref = parse_function_ref(call.deps.account, arn)
    return ref.name, ref.qualifier


def tag_resource(call: Call) -> Output:
    name, qualifier = _tag_target(call)
    call.deps.settings.tag(name, qualifier, call.params["Tags"])
    return None


def untag_resource(call: Call) -> Output:
    name, qualifier = _tag_target(call)
    call.deps.settings.untag(name, qualifier, call.params["TagKeys"])
    return None


def list_tags(call: Call) -> Output:
    name, qualifier = _tag_target(call)
    return {"Tags": call.deps.settings.tags(name, qualifier)}


# -- event invoke configs ----------------------------------------------------------------------------


def _eic_from(params: dict[str, Any]) -> EventInvokeConfig:
    destinations = params.get("DestinationConfig") or {}
    return EventInvokeConfig(
        qualifier="",
        maximum_retry_attempts=params.get("MaximumRetryAttempts"),
        maximum_event_age_seconds=params.get("MaximumEventAgeInSeconds"),
        on_success=(destinations.get("OnSuccess") or {}).get("Destination"),
        on_failure=(destinations.get("OnFailure") or {}).get("Destination"),
    )


def _put_eic(call: Call, merge: bool) -> Output:
    ref = call.ref()
    stored = call.deps.settings.put_event_invoke_config(
        ref.name, ref.qualifier, _eic_from(call.params), merge
    )
    return event_invoke_config(ref.name, stored, call.deps.account)


def put_function_event_invoke_config(call: Call) -> Output:
    return _put_eic(call, merge=False)


def update_function_event_invoke_config(call: Call) -> Output:
    return _put_eic(call, merge=True)


def get_function_event_invoke_config(call: Call) -> Output:
    ref = call.ref()
    return event_invoke_config(
        ref.name, call.deps.settings.event_invoke_config(ref.name, ref.qualifier), call.deps.account
    )


def delete_function_event_invoke_config(call: Call) -> Output:
    ref = call.ref()
    call.deps.settings.delete_event_invoke_config(ref.name, ref.qualifier)
    return None


def list_function_event_invoke_configs(call: Call) -> Output:
    name = call.unqualified_name()
    configs = call.deps.settings.list_event_invoke_configs(name)
    page, marker = paginate(configs, call.params.get("Marker"), call.params.get("MaxItems"), 50)
    output: dict[str, Any] = {
        "FunctionEventInvokeConfigs": [event_invoke_config(name, c, call.deps.account) for c in page]
    }
    if marker:
        output["NextMarker"] = marker
    return output


# -- account -----------------------------------------------------------------------------------------


def get_account_settings(call: Call) -> Output:
    limiter_total = call.deps.settings.account_limits()
    versions = call.deps.functions.list_latest(all_versions=True)
    return {
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800,
            "CodeSizeUnzipped": 262_144_000,
            "CodeSizeZipped": 52_428_800,
            "ConcurrentExecutions": limiter_total[0],
            "UnreservedConcurrentExecutions": limiter_total[1],
        },
        "AccountUsage": {
            "TotalCodeSize": sum(v.code.size for v in versions),
            "FunctionCount": len(call.deps.functions.list_latest()),
        },
    }
