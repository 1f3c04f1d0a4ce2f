"""IAM roles."""

from __future__ import annotations

from typing import Any

from lambdabox.api.iam import shapes
from lambdabox.api.iam.common import IamCall, Output, listing
from lambdabox.core.iam.entities import InstanceProfile


def create_role(call: IamCall, params: dict[str, Any]) -> Output:
    role = call.iam.create_role(
        params["RoleName"],
        params.get("Path", "/"),
        params["AssumeRolePolicyDocument"],
        params.get("Description"),
        params.get("MaxSessionDuration"),
        shapes.tags_in(params),
        params.get("PermissionsBoundary"),
    )
    out = shapes.role(role)
    del out["RoleLastUsed"]
    return {"Role": out}


def get_role(call: IamCall, params: dict[str, Any]) -> Output:
    return {"Role": shapes.role(call.iam.role(params["RoleName"]))}


def list_roles(call: IamCall, params: dict[str, Any]) -> Output:
    roles = call.iam.list_roles(params.get("PathPrefix", "/"))
    return listing("Roles", roles, params, lambda role: shapes.role(role, full=False))


def update_role(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.update_role(params["RoleName"], params.get("Description"), params.get("MaxSessionDuration"))
    return {}


def update_role_description(call: IamCall, params: dict[str, Any]) -> Output:
    role = call.iam.update_role(params["RoleName"], params["Description"], None)
    return {"Role": shapes.role(role)}


def update_assume_role_policy(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.update_assume_role_policy(params["RoleName"], params["PolicyDocument"])
    return None


def delete_role(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.delete_role(params["RoleName"])
    return None


def tag_role(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.tag("role", params["RoleName"], shapes.tags_in(params))
    return None


def untag_role(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.untag("role", params["RoleName"], params["TagKeys"])
    return None


def list_role_tags(call: IamCall, params: dict[str, Any]) -> Output:
    role = call.iam.role(params["RoleName"])
    return listing("Tags", role.tags, params, lambda tag: {"Key": tag[0], "Value": tag[1]})


# -- instance profiles --------------------------------------------------------------------------------------
def _profile(call: IamCall, profile: InstanceProfile) -> dict[str, Any]:
    return shapes.instance_profile(profile, call.iam.profiles.roles_of(profile))


def create_instance_profile(call: IamCall, params: dict[str, Any]) -> Output:
    profile = call.iam.profiles.create(
        params["InstanceProfileName"], params.get("Path", "/"), shapes.tags_in(params)
    )
    return {"InstanceProfile": _profile(call, profile)}


def get_instance_profile(call: IamCall, params: dict[str, Any]) -> Output:
    return {"InstanceProfile": _profile(call, call.iam.profiles.get(params["InstanceProfileName"]))}


def list_instance_profiles(call: IamCall, params: dict[str, Any]) -> Output:
    profiles = call.iam.profiles.listed(params.get("PathPrefix", "/"))
    return listing("InstanceProfiles", profiles, params, lambda p: _profile(call, p))


def list_instance_profiles_for_role(call: IamCall, params: dict[str, Any]) -> Output:
    profiles = call.iam.profiles.for_role(params["RoleName"])
    return listing("InstanceProfiles", profiles, params, lambda p: _profile(call, p))


def add_role_to_instance_profile(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.profiles.add_role(params["InstanceProfileName"], params["RoleName"])
    return None


def remove_role_from_instance_profile(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.profiles.remove_role(params["InstanceProfileName"], params["RoleName"])
    return None


def delete_instance_profile(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.profiles.delete(params["InstanceProfileName"])
    return None
