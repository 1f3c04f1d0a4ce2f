"""Secret values and versions: get, batch get, put, list versions, staging labels, random passwords."""

from __future__ import annotations

from typing import Any

from lambdabox.api.secretsmanager.common import SecretsDeps, filters_of, page, value_of
from lambdabox.core.secrets.models import SecretValue
from lambdabox.core.secrets.passwords import random_password
from lambdabox.errors import AwsError


def _value_shape(value: SecretValue) -> dict[str, Any]:
    return {
        "ARN": value.secret.arn,
        "Name": value.secret.name,
        "VersionId": value.version.version_id,
        "SecretString": value.string,
        "SecretBinary": value.binary,
        "VersionStages": list(value.version.stages),
        "CreatedDate": value.version.created,
    }


def get_secret_value(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    value = deps.secrets.value(params["SecretId"], params.get("VersionId"), params.get("VersionStage"))
    return _value_shape(value)


def batch_get_secret_value(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    ids = params.get("SecretIdList")
    filters = params.get("Filters")
    if (ids is None) == (filters is None):
        raise AwsError("InvalidParameterException", "Either 'SecretIdList' or 'Filters' must be provided.")
    token = None
    if ids is None:
        if params.get("MaxResults") is not None and params["MaxResults"] > 20:
            raise AwsError("InvalidParameterException", "MaxResults must be between 1 and 20.")
        found = deps.secrets.list_secrets(filters_of(filters), include_deleted=False)
        chosen, token = page("BatchGetSecretValue", found, params, 20)
        ids = [secret.arn for secret in chosen]
    elif params.get("MaxResults") is not None or params.get("NextToken") is not None:
        raise AwsError("InvalidParameterException", "MaxResults and NextToken can be used only with Filters.")
    values: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for secret_id in ids:
        try:
            values.append(_value_shape(deps.secrets.value(secret_id, None, None)))
        except AwsError as error:
            errors.append({"SecretId": secret_id, "ErrorCode": error.code, "Message": error.message})
    return {"SecretValues": values, "Errors": errors, "NextToken": token}


def put_secret_value(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    value = value_of(params)
    if value is None:
        raise AwsError("InvalidRequestException", "You must provide either SecretString or SecretBinary.")
    secret, version = deps.secrets.put_value(
        params["SecretId"], params.get("ClientRequestToken"), value, params.get("VersionStages")
    )
    return {
        "ARN": secret.arn,
        "Name": secret.name,
        "VersionId": version.version_id,
        "VersionStages": list(version.stages),
    }


def list_secret_version_ids(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret = deps.secrets.find(params["SecretId"])
    versions = [v for v in secret.versions.values() if v.stages or params.get("IncludeDeprecated")]
    chosen, token = page("ListSecretVersionIds", versions, params, 100)
    return {
        "ARN": secret.arn,
        "Name": secret.name,
        "Versions": [
            {
                "VersionId": v.version_id,
                "VersionStages": list(v.stages),
                "LastAccessedDate": v.last_accessed,
                "CreatedDate": v.created,
                "KmsKeyIds": [v.key_id] if v.key_id else None,
            }
            for v in chosen
        ],
        "NextToken": token,
    }


def update_secret_version_stage(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret = deps.secrets.update_stage(
        params["SecretId"],
        params["VersionStage"],
        params.get("RemoveFromVersionId"),
        params.get("MoveToVersionId"),
    )
    return {"ARN": secret.arn, "Name": secret.name}


def get_random_password(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    password = random_password(
        params.get("PasswordLength", 32),
        params.get("ExcludeCharacters", ""),
        numbers=not params.get("ExcludeNumbers", False),
        punctuation=not params.get("ExcludePunctuation", False),
        uppercase=not params.get("ExcludeUppercase", False),
        lowercase=not params.get("ExcludeLowercase", False),
        space=bool(params.get("IncludeSpace", False)),
        require_each=params.get("RequireEachIncludedType", True),
    )
    return {"RandomPassword": password}
