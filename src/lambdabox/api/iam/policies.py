"""Inline policies of users, groups and roles; managed policies, their versions and attachments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdabox.api.iam import shapes
from lambdabox.api.iam.common import Handler, IamCall, Output, listing
from lambdabox.core.iam.documents import encoded
from lambdabox.core.iam.entities import ManagedPolicy
from lambdabox.core.iam.service import EntityKind

_NAME_MEMBER = {EntityKind.USER: "UserName", EntityKind.GROUP: "GroupName", EntityKind.ROLE: "RoleName"}


# -- inline policies (one set of handlers per kind of entity) ------------------------------------------
def _put_inline(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        call.iam.put_inline(kind, params[_NAME_MEMBER[kind]], params["PolicyName"], params["PolicyDocument"])
        return None

    return handler


def _get_inline(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        entity, text = call.iam.get_inline(kind, params[_NAME_MEMBER[kind]], params["PolicyName"])
        return {
            _NAME_MEMBER[kind]: entity.name,
            "PolicyName": params["PolicyName"],
            "PolicyDocument": encoded(text),
        }

    return handler


def _delete_inline(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        call.iam.delete_inline(kind, params[_NAME_MEMBER[kind]], params["PolicyName"])
        return None

    return handler


def _list_inline(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        names = call.iam.list_inline(kind, params[_NAME_MEMBER[kind]])
        return listing("PolicyNames", names, params, str)

    return handler


def _attach(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        call.iam.attach(kind, params[_NAME_MEMBER[kind]], params["PolicyArn"])
        return None

    return handler


def _detach(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        call.iam.detach(kind, params[_NAME_MEMBER[kind]], params["PolicyArn"])
        return None

    return handler


def _list_attached(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        policies = call.iam.attached(kind, params[_NAME_MEMBER[kind]], params.get("PathPrefix", "/"))
        return listing(
            "AttachedPolicies", policies, params, lambda p: {"PolicyName": p.name, "PolicyArn": p.arn}
        )

    return handler


def _put_boundary(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        call.iam.set_boundary(kind, params[_NAME_MEMBER[kind]], params["PermissionsBoundary"])
        return None

    return handler


def _delete_boundary(kind: EntityKind) -> Handler:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        call.iam.set_boundary(kind, params[_NAME_MEMBER[kind]], None)
        return None

    return handler


def per_entity() -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    makers: dict[str, Callable[[EntityKind], Handler]] = {
        "Put{}Policy": _put_inline,
        "Get{}Policy": _get_inline,
        "Delete{}Policy": _delete_inline,
        "List{}Policies": _list_inline,
        "Attach{}Policy": _attach,
        "Detach{}Policy": _detach,
        "ListAttached{}Policies": _list_attached,
    }
    for kind in EntityKind:
        for template, make in makers.items():
            handlers[template.format(kind.value.capitalize())] = make(kind)
    for kind in (EntityKind.USER, EntityKind.ROLE):
        handlers[f"Put{kind.value.capitalize()}PermissionsBoundary"] = _put_boundary(kind)
        handlers[f"Delete{kind.value.capitalize()}PermissionsBoundary"] = _delete_boundary(kind)
    return handlers


# -- managed policies ---------------------------------------------------------------------------------------
def _policy(call: IamCall, policy: ManagedPolicy, *, full: bool = False) -> dict[str, Any]:
    return shapes.policy(
        policy, call.iam.attachment_count(policy.arn), call.iam.boundary_count(policy.arn), full=full
    )


def create_policy(call: IamCall, params: dict[str, Any]) -> Output:
    policy = call.iam.create_policy(
        params["PolicyName"],
        params.get("Path", "/"),
        params["PolicyDocument"],
        params.get("Description"),
        shapes.tags_in(params),
    )
    out = _policy(call, policy, full=True)
    out.pop("Description", None)
    return {"Policy": out}


def get_policy(call: IamCall, params: dict[str, Any]) -> Output:
    return {"Policy": _policy(call, call.iam.policy(params["PolicyArn"]), full=True)}


def list_policies(call: IamCall, params: dict[str, Any]) -> Output:
    policies = call.iam.list_policies(
        params.get("Scope", "All"), params.get("OnlyAttached", False), params.get("PathPrefix", "/")
    )
    return listing("Policies", policies, params, lambda p: _policy(call, p))


def delete_policy(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.delete_policy(params["PolicyArn"])
    return None


def create_policy_version(call: IamCall, params: dict[str, Any]) -> Output:
    version = call.iam.create_policy_version(
        params["PolicyArn"], params["PolicyDocument"], params.get("SetAsDefault", False)
    )
    default = version.version_id if params.get("SetAsDefault") else ""
    return {"PolicyVersion": shapes.version(version, default, with_document=False)}


def get_policy_version(call: IamCall, params: dict[str, Any]) -> Output:
    policy, version = call.iam.policy_version(params["PolicyArn"], params["VersionId"])
    return {"PolicyVersion": shapes.version(version, policy.default_version)}


def list_policy_versions(call: IamCall, params: dict[str, Any]) -> Output:
    policy = call.iam.policy(params["PolicyArn"])
    versions = sorted(policy.versions, key=lambda v: int(v.version_id[1:]), reverse=True)
    return listing(
        "Versions", versions, params, lambda v: shapes.version(v, policy.default_version, with_document=False)
    )


def delete_policy_version(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.delete_policy_version(params["PolicyArn"], params["VersionId"])
    return None


def set_default_policy_version(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.set_default_policy_version(params["PolicyArn"], params["VersionId"])
    return None


def list_entities_for_policy(call: IamCall, params: dict[str, Any]) -> Output:
    as_boundary = params.get("PolicyUsageFilter") == "PermissionsBoundary"
    users, groups, roles = call.iam.entities_for_policy(params["PolicyArn"], as_boundary)
    prefix = params.get("PathPrefix", "/")
    wanted = params.get("EntityFilter")
    out: dict[str, Any] = {"IsTruncated": False}
    if wanted in (None, "User"):
        out["PolicyUsers"] = [
            {"UserName": u.name, "UserId": u.user_id} for u in users if u.path.startswith(prefix)
        ]
    if wanted in (None, "Group"):
        out["PolicyGroups"] = [
            {"GroupName": g.name, "GroupId": g.group_id} for g in groups if g.path.startswith(prefix)
        ]
    if wanted in (None, "Role"):
        out["PolicyRoles"] = [
            {"RoleName": r.name, "RoleId": r.role_id} for r in roles if r.path.startswith(prefix)
        ]
    return out


def tag_policy(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.tag("policy", params["PolicyArn"], shapes.tags_in(params))
    return None


def untag_policy(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.untag("policy", params["PolicyArn"], params["TagKeys"])
    return None


def list_policy_tags(call: IamCall, params: dict[str, Any]) -> Output:
    policy = call.iam.policy(params["PolicyArn"])
    return listing("Tags", policy.tags, params, lambda tag: {"Key": tag[0], "Value": tag[1]})
