"""RotateSecret and CancelRotateSecret."""

from __future__ import annotations

from typing import Any

from lambdabox.api.secretsmanager.common import SecretsDeps, rules_in


def rotate_secret(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    arn, name, version_id = deps.rotator.rotate(
        params["SecretId"],
        params.get("ClientRequestToken"),
        params.get("RotationLambdaARN"),
        rules_in(params.get("RotationRules")),
        params.get("RotateImmediately", True),
    )
    return {"ARN": arn, "Name": name, "VersionId": version_id}


def cancel_rotate_secret(deps: SecretsDeps, params: dict[str, Any]) -> dict[str, Any]:
    secret, pending = deps.secrets.cancel_rotation(params["SecretId"])
    return {"ARN": secret.arn, "Name": secret.name, "VersionId": pending}
