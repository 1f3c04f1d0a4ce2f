"""IAM domain records as the model's output shapes (policy documents URL-encoded, as IAM returns them)."""

from __future__ import annotations

from typing import Any

from lambdabox.core.iam.documents import encoded
from lambdabox.core.iam.entities import (
    AccessKeyRecord,
    Group,
    InstanceProfile,
    ManagedPolicy,
    PolicyVersion,
    Role,
    Tags,
    User,
)


def tags(values: Tags) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in values]


def tags_in(params: dict[str, Any], member: str = "Tags") -> Tags:
    return tuple((tag["Key"], tag["Value"]) for tag in params.get(member) or [])


def _boundary(arn: str | None) -> dict[str, str] | None:
    if arn is None:
        return None
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}


def user(record: User, *, with_tags: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": record.path,
        "UserName": record.name,
        "UserId": record.user_id,
        "Arn": record.arn,
        "CreateDate": record.created,
        "PermissionsBoundary": _boundary(record.permissions_boundary),
    }
    if with_tags and record.tags:
        out["Tags"] = tags(record.tags)
    return out


def group(record: Group) -> dict[str, Any]:
    return {
        "Path": record.path,
        "GroupName": record.name,
        "GroupId": record.group_id,
        "Arn": record.arn,
        "CreateDate": record.created,
    }


def role(record: Role, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": record.path,
        "RoleName": record.name,
        "RoleId": record.role_id,
        "Arn": record.arn,
        "CreateDate": record.created,
        "AssumeRolePolicyDocument": encoded(record.assume_role_policy_document),
        "Description": record.description,
        "MaxSessionDuration": record.max_session_duration,
        "PermissionsBoundary": _boundary(record.permissions_boundary),
    }
    if full:
        if record.tags:
            out["Tags"] = tags(record.tags)
        out["RoleLastUsed"] = {}
    return out


def policy(record: ManagedPolicy, attachments: int, boundaries: int, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": record.name,
        "PolicyId": record.policy_id,
        "Arn": record.arn,
        "Path": record.path,
        "DefaultVersionId": record.default_version,
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundaries,
        "IsAttachable": True,
        "CreateDate": record.created,
        "UpdateDate": record.updated,
    }
    if full:
        out["Description"] = record.description
        if record.tags:
            out["Tags"] = tags(record.tags)
    return out


def version(record: PolicyVersion, default: str, *, with_document: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "VersionId": record.version_id,
        "IsDefaultVersion": record.version_id == default,
        "CreateDate": record.created,
    }
    if with_document:
        out["Document"] = encoded(record.document)
    return out


def access_key(record: AccessKeyRecord, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "UserName": record.user_name,
        "AccessKeyId": record.access_key_id,
        "Status": record.status.value,
        "CreateDate": record.created,
    }
    if with_secret:
        out["SecretAccessKey"] = record.secret_access_key
    return out


def instance_profile(record: InstanceProfile, roles: list[Role]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": record.path,
        "InstanceProfileName": record.name,
        "InstanceProfileId": record.instance_profile_id,
        "Arn": record.arn,
        "CreateDate": record.created,
        "Roles": [role(item, full=False) for item in roles],
    }
    if record.tags:
        out["Tags"] = tags(record.tags)
    return out
