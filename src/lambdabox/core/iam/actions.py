"""Which IAM action, on which resource ARN, each API operation is authorized as (AWS's Service
Authorization Reference), with the operation's own condition keys (`s3:prefix`, `iam:PassedToService` …).

Every function takes the operation name and its parsed input members and returns the checks the request
must pass, in order; the first denied one is reported. Operations not listed map to `<service>:<Operation>`
on the resource their input names (or `*`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdabox.core.events.models import DEFAULT_BUS
from lambdabox.core.events.names import EventsNames
from lambdabox.core.names import Account, parse_function_ref

Keys = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Check:
    """`keys`: condition keys of this action (lower-case names); `function`/`bucket`: whose resource
    policy takes part (a Lambda function and qualifier, an S3 bucket); `obj`: (bucket, key, version id)
    of the existing object whose tags the action's conditions may read."""

    action: str
    resource: str
    keys: Keys = field(default_factory=dict)
    function: tuple[str, str | None] | None = None
    bucket: str | None = None
    obj: tuple[str, str, str | None] | None = None  # an existing S3 object (s3:ExistingObjectTag/*)
    policy: str | None = None  # a resource-based policy the front end read itself (a secret's, a KMS key's)


# -- Lambda -------------------------------------------------------------------------------------------
_LAMBDA_ACTIONS = {
    "Invoke": "InvokeFunction",
    "InvokeAsync": "InvokeFunction",
    "GetLayerVersionByArn": "GetLayerVersion",
}
# Layer operations: on the layer (publish), on every resource (lists), else on the layer version.
_LAYER_OPERATIONS = frozenset(
    {
        "PublishLayerVersion",
        "GetLayerVersion",
        "GetLayerVersionByArn",
        "DeleteLayerVersion",
        "AddLayerVersionPermission",
        "RemoveLayerVersionPermission",
        "GetLayerVersionPolicy",
    }
)
# Operations on the function as a whole, whatever qualifier the request names.
_LAMBDA_UNQUALIFIED = frozenset(
    {
        "CreateAlias",
        "GetAlias",
        "UpdateAlias",
        "DeleteAlias",
        "ListAliases",
        "ListVersionsByFunction",
        "PublishVersion",
        "UpdateFunctionCode",
        "UpdateFunctionConfiguration",
        "PutFunctionConcurrency",
        "GetFunctionConcurrency",
        "DeleteFunctionConcurrency",
        "PutFunctionCodeSigningConfig",
        "GetFunctionCodeSigningConfig",
        "DeleteFunctionCodeSigningConfig",
        "GetFunctionRecursionConfig",
        "PutFunctionRecursionConfig",
    }
)
_LAMBDA_PRINCIPAL = "lambda.amazonaws.com"


def lambda_checks(account: Account, operation: str, params: Mapping[str, Any]) -> list[Check]:
    action = "lambda:" + _LAMBDA_ACTIONS.get(operation, operation)
    checks: list[Check] = []
    if "FunctionName" in params:
        ref = parse_function_ref(account, str(params["FunctionName"]), params.get("Qualifier"))
        qualifier = None if operation in _LAMBDA_UNQUALIFIED else ref.qualifier
        keys: dict[str, list[str]] = {"lambda:functionarn": [account.function_arn(ref.name)]}
        if operation == "AddPermission" and params.get("Principal"):
            keys["lambda:principal"] = [str(params["Principal"])]
        if params.get("AuthType"):
            keys["lambda:functionurlauthtype"] = [str(params["AuthType"])]
        if params.get("CodeSigningConfigArn"):  # CreateFunction, PutFunctionCodeSigningConfig
            keys["lambda:codesigningconfigarn"] = [str(params["CodeSigningConfigArn"])]
        checks.append(
            Check(
                action,
                account.function_arn(ref.name, qualifier),
                keys,
                function=(ref.name, ref.qualifier),
            )
        )
    elif operation in _LAYER_OPERATIONS:
        checks.append(Check(action, _layer_resource(account, operation, params)))
    elif "CodeSigningConfigArn" in params:  # on the configuration (Create and List: on every resource)
        checks.append(Check(action, str(params["CodeSigningConfigArn"])))
    elif "Resource" in params:  # tags
        checks.append(Check(action, str(params["Resource"])))
    else:
        checks.append(Check(action, "*"))
    if params.get("Role") and operation in ("CreateFunction", "UpdateFunctionConfiguration"):
        checks.append(pass_role(str(params["Role"]), _LAMBDA_PRINCIPAL))
    if operation == "PutFunctionCodeSigningConfig" and params.get("CodeSigningConfigArn"):
        checks.append(Check(action, str(params["CodeSigningConfigArn"])))  # on both resources
    if params.get("Layers") and operation in ("CreateFunction", "UpdateFunctionConfiguration"):
        layers = [str(arn) for arn in params["Layers"]]
        checks[0] = Check(
            checks[0].action,
            checks[0].resource,
            {**checks[0].keys, "lambda:layer": layers},
            function=checks[0].function,
        )
        checks.extend(Check("lambda:GetLayerVersion", arn) for arn in layers)  # using a layer reads it
    return checks


def _layer_resource(account: Account, operation: str, params: Mapping[str, Any]) -> str:
    """A layer operation's resource: the layer version's ARN (the layer's for PublishLayerVersion)."""
    if operation == "GetLayerVersionByArn":
        return str(params.get("Arn", "*"))
    name = str(params.get("LayerName", ""))
    layer = (
        name
        if name.startswith("arn:")
        else f"arn:aws:lambda:{account.region}:{account.account_id}:layer:{name}"
    )
    if operation == "PublishLayerVersion":
        return layer
    return f"{layer}:{params.get('VersionNumber', '*')}"


def pass_role(role_arn: str, service: str) -> Check:
    return Check("iam:PassRole", role_arn, {"iam:passedtoservice": [service]})


# -- CloudWatch Logs ----------------------------------------------------------------------------------
def logs_checks(account: Account, operation: str, params: Mapping[str, Any]) -> list[Check]:
    action = f"logs:{operation}"
    prefix = f"arn:aws:logs:{account.region}:{account.account_id}:log-group:"
    if "resourceArn" in params:
        return [Check(action, str(params["resourceArn"]))]
    group = params.get("logGroupName") or params.get("logGroupIdentifier")
    if group is None:
        return [Check(action, f"{prefix}:log-stream:")]
    group = str(group)
    if group.startswith("arn:"):
        group = group.split(":log-group:", 1)[-1].removesuffix(":*")
    stream = params.get("logStreamName") if operation in ("PutLogEvents", "GetLogEvents") else None
    return [Check(action, f"{prefix}{group}:log-stream:{stream or ''}")]


# -- EventBridge --------------------------------------------------------------------------------------
_EVENTS_RULE_OPS = frozenset(
    {
        "PutRule",
        "DescribeRule",
        "EnableRule",
        "DisableRule",
        "DeleteRule",
        "PutTargets",
        "RemoveTargets",
        "ListTargetsByRule",
    }
)
_EVENTS_BUS_OPS = frozenset(
    {
        "CreateEventBus",
        "UpdateEventBus",
        "DeleteEventBus",
        "DescribeEventBus",
        "PutPermission",
        "RemovePermission",
    }
)


def events_checks(
    names: EventsNames,
    operation: str,
    params: Mapping[str, Any],
    bus_policy: Callable[[str], str | None] = lambda _: None,
) -> list[Check]:
    """`bus_policy(name)`: the resource-based policy of a bus, part of PutEvents' check on it."""
    action = f"events:{operation}"
    if operation in _EVENTS_RULE_OPS:
        rule = params.get("Name") or params.get("Rule") or ""
        bus = names.bus_name(params.get("EventBusName"))
        checks = [Check(action, names.rule_arn(bus, str(rule)))]
        if operation == "PutTargets":
            roles = {str(t["RoleArn"]) for t in params.get("Targets") or [] if t.get("RoleArn")}
            checks.extend(pass_role(role, "events.amazonaws.com") for role in sorted(roles))
        return checks
    if operation in _EVENTS_BUS_OPS:
        return [
            Check(action, names.bus_arn(names.bus_name(params.get("Name") or params.get("EventBusName"))))
        ]
    if operation in ("ListRules", "ListRuleNamesByTarget"):
        bus = names.bus_name(params.get("EventBusName"))
        return [Check(action, names.rule_arn(bus, "*"))]
    if operation == "PutEvents":
        checks = []
        seen: set[str] = set()
        for entry in params.get("Entries") or []:
            name = names.bus_name(entry.get("EventBusName") or DEFAULT_BUS)
            bus = names.bus_arn(name)
            keys = {
                "events:source": [str(entry.get("Source", ""))],
                "events:detail-type": [str(entry.get("DetailType", ""))],
            }
            signature = f"{bus}\n{keys['events:source'][0]}\n{keys['events:detail-type'][0]}"
            if signature not in seen:
                seen.add(signature)
                checks.append(Check(action, bus, keys, policy=bus_policy(name)))
        return checks or [Check(action, names.bus_arn(DEFAULT_BUS))]
    if "ResourceARN" in params:
        return [Check(action, str(params["ResourceARN"]))]
    return [Check(action, "*")]


# -- S3 -----------------------------------------------------------------------------------------------
# Operation -> IAM action, when the names differ (S3's actions predate its API names).
_S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "DeleteBucketTagging": "PutBucketTagging",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketCors": "PutBucketCORS",
    "GetBucketCors": "GetBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "PostObject": "PutObject",
}
# Object actions on an existing object, whose conditions may read its tags (s3:ExistingObjectTag/<key>).
_S3_EXISTING = frozenset({"GetObject", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging"})
# Object actions that have a `…Version` variant when the request names a version.
_S3_VERSIONED = frozenset(
    {"GetObject", "DeleteObject", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging"}
)


def s3_checks(
    operation: str,
    params: Mapping[str, Any],
    headers: Mapping[str, str],
    copy_source: tuple[str, str, str | None] | None = None,
) -> list[Check]:
    """`copy_source`: (bucket, key, version id) a CopyObject / UploadPartCopy reads."""
    action = _S3_ACTIONS.get(operation, operation)
    bucket = params.get("Bucket")
    if bucket is None:
        return [Check(f"s3:{action}", "arn:aws:s3:::" if action == "ListAllMyBuckets" else "*")]
    keys: dict[str, list[str]] = {}
    if "x-amz-acl" in headers:
        keys["s3:x-amz-acl"] = [headers["x-amz-acl"]]
    if operation in ("ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads"):
        keys["s3:prefix"] = [str(params.get("Prefix") or "")]
        if params.get("Delimiter") is not None:
            keys["s3:delimiter"] = [str(params["Delimiter"])]
        if params.get("MaxKeys") is not None:
            keys["s3:max-keys"] = [str(params["MaxKeys"])]
    if operation == "DeleteObjects":
        return []  # each key is authorized as it is deleted (s3_delete_check), refused keys are errors
    if "Key" not in params:
        return [Check(f"s3:{action}", f"arn:aws:s3:::{bucket}", keys, bucket=str(bucket))]
    checks = [_s3_object(action, str(bucket), str(params["Key"]), params.get("VersionId"), keys)]
    if copy_source is not None:
        checks.insert(0, _s3_object("GetObject", *copy_source, {}))
    return checks


def s3_delete_check(bucket: str, key: str, version: str | None) -> Check:
    """One key of a DeleteObjects request."""
    return _s3_object("DeleteObject", bucket, key, version, {})


def _s3_object(action: str, bucket: str, key: str, version: Any, keys: Keys) -> Check:
    existing = (bucket, key, str(version) if version else None) if action in _S3_EXISTING else None
    if version and action in _S3_VERSIONED:
        action += "Version"
    return Check(f"s3:{action}", f"arn:aws:s3:::{bucket}/{key}", keys, bucket=bucket, obj=existing)


# -- IAM ------------------------------------------------------------------------------------------------
# (STS: AssumeRole is evaluated by core/sts.py with the role's trust policy as the resource policy;
# GetCallerIdentity and GetSessionToken need no permission.)
# ("user" | "group" | "role", name) -> the entity's ARN, if it exists
ArnOf = Callable[[str, str], str | None]


def iam_checks(
    account: Account, operation: str, params: Mapping[str, Any], caller: str, arn_of: ArnOf | None = None
) -> list[Check]:
    """IAM actions on the user, group, role or policy the request names: an existing entity's own ARN
    (path included), else the ARN it would have; requests about "myself" (GetUser, CreateAccessKey … without
    a UserName) are on the caller's own user."""
    action = f"iam:{operation}"
    base = f"arn:aws:iam::{account.account_id}:"
    if params.get("PolicyArn") and not any(n in params for n in ("UserName", "RoleName", "GroupName")):
        return [Check(action, str(params["PolicyArn"]))]
    for member, kind in (("RoleName", "role"), ("GroupName", "group"), ("UserName", "user")):
        name = params.get(member)
        if name:
            existing = arn_of(kind, str(name)) if arn_of is not None else None
            return [Check(action, existing or f"{base}{kind}{params.get('Path') or '/'}{name}")]
    if operation == "CreatePolicy" and params.get("PolicyName"):
        return [Check(action, f"{base}policy{params.get('Path') or '/'}{params['PolicyName']}")]
    if ":user/" in caller and operation in _IAM_SELF:
        return [Check(action, caller)]
    if operation.startswith("List") and operation[4:] in _IAM_LISTS:
        return [Check(action, f"{base}{_IAM_LISTS[operation[4:]]}/")]
    return [Check(action, "*")]


_IAM_SELF = frozenset(
    {
        "GetUser",
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "ListUserPolicies",
        "ListAttachedUserPolicies",
        "ListGroupsForUser",
        "ListUserTags",
    }
)
_IAM_LISTS = {"Users": "user", "Roles": "role", "Groups": "group", "Policies": "policy"}
