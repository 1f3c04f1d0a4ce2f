"""IAM users and their access keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdabox.api.iam import shapes
from lambdabox.api.iam.common import IamCall, Output, listing
from lambdabox.errors import AwsError


def create_user(call: IamCall, params: dict[str, Any]) -> Output:
    user = call.iam.create_user(
        params["UserName"],
        params.get("Path", "/"),
        shapes.tags_in(params),
        params.get("PermissionsBoundary"),
    )
    return {"User": shapes.user(user)}


def get_user(call: IamCall, params: dict[str, Any]) -> Output:
    name = params.get("UserName")
    if not name and call.iam.is_root(call.caller):
        account = call.iam.account_id
        return {"User": {"UserId": account, "Arn": call.caller, "CreateDate": 0.0}}
    return {"User": shapes.user(call.iam.user(call.user_name(name)))}


def list_users(call: IamCall, params: dict[str, Any]) -> Output:
    users = call.iam.list_users(params.get("PathPrefix", "/"))
    return listing("Users", users, params, lambda user: shapes.user(user, with_tags=False))


def update_user(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.update_user(params["UserName"], params.get("NewUserName"), params.get("NewPath"))
    return None


def delete_user(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.delete_user(params["UserName"])
    return None


def tag_user(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.tag("user", params["UserName"], shapes.tags_in(params))
    return None


def untag_user(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.untag("user", params["UserName"], params["TagKeys"])
    return None


def list_user_tags(call: IamCall, params: dict[str, Any]) -> Output:
    user = call.iam.user(params["UserName"])
    return listing("Tags", user.tags, params, lambda tag: {"Key": tag[0], "Value": tag[1]})


# -- access keys --------------------------------------------------------------------------------------------
def create_access_key(call: IamCall, params: dict[str, Any]) -> Output:
    key = call.iam.create_access_key(call.user_name(params.get("UserName")))
    return {"AccessKey": shapes.access_key(key, with_secret=True)}


def list_access_keys(call: IamCall, params: dict[str, Any]) -> Output:
    keys = call.iam.access_keys(call.user_name(params.get("UserName")))
    return listing("AccessKeyMetadata", keys, params, shapes.access_key)


def update_access_key(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.update_access_key(
        call.user_name(params.get("UserName")), params["AccessKeyId"], params["Status"]
    )
    return None


def delete_access_key(call: IamCall, params: dict[str, Any]) -> Output:
    call.iam.delete_access_key(call.user_name(params.get("UserName")), params["AccessKeyId"])
    return None


def get_access_key_last_used(call: IamCall, params: dict[str, Any]) -> Output:
    key = call.iam.access_key(params["AccessKeyId"])
    used = call.credentials.last_used(key.access_key_id) if call.credentials is not None else None
    last: dict[str, Any] = {"ServiceName": "N/A", "Region": "N/A"}
    if used is not None:
        last["LastUsedDate"] = used
    return {"UserName": key.user_name, "AccessKeyLastUsed": last}


# -- credentials Lambdabox does not issue: a user has none of them -------------------------------------------
def _none_of(member: str) -> Callable[[IamCall, dict[str, Any]], Output]:
    def handler(call: IamCall, params: dict[str, Any]) -> Output:
        call.iam.user(call.user_name(params.get("UserName")))
        return {member: [], "IsTruncated": False}

    return handler


list_mfa_devices = _none_of("MFADevices")
list_signing_certificates = _none_of("Certificates")
list_ssh_public_keys = _none_of("SSHPublicKeys")
list_service_specific_credentials = _none_of("ServiceSpecificCredentials")


def get_login_profile(call: IamCall, params: dict[str, Any]) -> Output:
    user = call.iam.user(call.user_name(params.get("UserName")))
    raise AwsError("NoSuchEntity", f"Login Profile for User {user.name} cannot be found.", 404)


def list_account_aliases(call: IamCall, params: dict[str, Any]) -> Output:
    return {"AccountAliases": [], "IsTruncated": False}
