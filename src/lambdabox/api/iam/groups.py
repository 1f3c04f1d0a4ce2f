"""IAM groups and their members."""

from __future__ import annotations

from typing import Any

from lambdabox.api.iam import shapes
from lambdabox.api.iam.common import IamCall, Output, listing


def create_group(call: IamCall, params: dict[str, Any]) -> Output:
    return {"Group": shapes.group(call.iam.create_group(params["GroupName"], params.get("Path", "/")))}


def get_group(call: IamCall, params: dict[str, Any]) -> Output:
    group = call.iam.group(params["GroupName"])
    out = listing(
        "Users", call.iam.group_members(group), params, lambda user: shapes.user(user, with_tags=False)
    )
    out["Group"] = shapes.group(group)
    return out


def list_groups(call: IamCall, params: dict[str, Any]) -> Output:
    return listing("Groups", call.iam.list_groups(params.get("PathPrefix", "/")), params, shapes.group)


def list_groups_for_user(call: IamCall, params: dict[str, Any]) -> Output:
    return listing("Groups", call.iam.groups_for_user(params["UserName"]), params, shapes.group)


def update_group(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.update_group(params["GroupName"], params.get("NewGroupName"), params.get("NewPath"))
    return None


def delete_group(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.delete_group(params["GroupName"])
    return None


def add_user_to_group(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.add_user_to_group(params["GroupName"], params["UserName"])
    return None


def remove_user_from_group(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.remove_user_from_group(params["GroupName"], params["UserName"])
    return None
