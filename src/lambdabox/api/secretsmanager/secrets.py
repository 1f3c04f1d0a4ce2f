"""Secrets: create, describe, list, update, delete, restore, tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdabox.api.secretsmanager.common import SecretsDeps, filters_of, page, secret_shape, tag_map, value_of
from lambdabox.core.secrets.models import Secret
from lambdabox.core.secrets.service import check_policy
from lambdabox.errors import AwsError


def create_secret(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("AddReplicaRegions"):
        raise AwsError(
            "InvalidParameterException", "Lambdabox runs a single region: replicas are not supported."
        )
    secret, version_id = deps.secrets.create(
        params["Name"],
        params.get("ClientRequestToken"),
        value_of(params),
        params.get("Description"),
        params.get("KmsKeyId"),
        tag_map(params.get("Tags")),
    )
    return {"ARN": secret.arn, "Name": secret.name, "VersionId": version_id}


def describe_secret(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    return secret_shape(deps.secrets, deps.secrets.find(params["SecretId"]))


_SORT_KEYS: dict[str, Callable[[Secret], Any]] = {
    "created-date": lambda s: s.created,
    "last-accessed-date": lambda s: s.last_accessed or 0.0,
    "last-changed-date": lambda s: s.last_changed,
    "name": lambda s: s.name,
}


def list_secrets(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    found = deps.secrets.list_secrets(
        filters_of(params.get("Filters")), bool(params.get("IncludePlannedDeletion"))
    )
    key = _SORT_KEYS[params.get("SortBy", "created-date")]
    found.sort(key=lambda s: (key(s), s.created, s.name), reverse=params.get("SortOrder", "desc") == "desc")
    chosen, token = page("ListSecrets", found, params, 100)
    return {
        "SecretList": [secret_shape(deps.secrets, s, list_entry=True) for s in chosen],
        "NextToken": token,
    }


def update_secret(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret, version_id = deps.secrets.update(
        params["SecretId"],
        params.get("ClientRequestToken"),
        value_of(params),
        params.get("Description"),
        params.get("KmsKeyId"),
    )
    return {"ARN": secret.arn, "Name": secret.name, "VersionId": version_id}


def delete_secret(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret, when = deps.secrets.delete(
        params["SecretId"], params.get("RecoveryWindowInDays"), bool(params.get("ForceDeleteWithoutRecovery"))
    )
    return {"ARN": secret.arn, "Name": secret.name, "DeletionDate": when}


def restore_secret(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret = deps.secrets.restore(params["SecretId"])
    return {"ARN": secret.arn, "Name": secret.name}


def tag_resource(deps: SecretsDeps, params: dict[str, Any]) -> None:
    deps.secrets.tag(params["SecretId"], tag_map(params["Tags"]))


def untag_resource(deps: SecretsDeps, params: dict[str, Any]) -> None:
    deps.secrets.untag(params["SecretId"], params["TagKeys"])


def put_resource_policy(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret = deps.secrets.set_policy(params["SecretId"], params["ResourcePolicy"])
    return {"ARN": secret.arn, "Name": secret.name}


def get_resource_policy(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret = deps.secrets.active(params["SecretId"])
    return {"ARN": secret.arn, "Name": secret.name, "ResourcePolicy": secret.resource_policy}


def delete_resource_policy(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret = deps.secrets.set_policy(params["SecretId"], None)
    return {"ARN": secret.arn, "Name": secret.name}


def validate_resource_policy(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("SecretId") is not None:
        deps.secrets.active(params["SecretId"])
    check_policy(params["ResourcePolicy"])
    return {"PolicyValidationPassed": True, "ValidationErrors": []}
