"""The Secrets Manager front end: json-protocol dispatch, and each operation's IAM action and resource."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from lambdabox.api.secretsmanager import rotation, secrets, values
from lambdabox.api.secretsmanager.common import SecretsDeps
from lambdabox.aws.json_protocol import JsonProtocol
from lambdabox.aws.model import load_service_model
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.errors import AwsError

Handler = Callable[[SecretsDeps, dict[str, Any]], dict[str, Any] | None]

HANDLERS: dict[str, Handler] = {
    "CreateSecret": secrets.create_secret,
    "DescribeSecret": secrets.describe_secret,
    "ListSecrets": secrets.list_secrets,
    "UpdateSecret": secrets.update_secret,
    "DeleteSecret": secrets.delete_secret,
    "RestoreSecret": secrets.restore_secret,
    "TagResource": secrets.tag_resource,
    "UntagResource": secrets.untag_resource,
    "PutResourcePolicy": secrets.put_resource_policy,
    "GetResourcePolicy": secrets.get_resource_policy,
    "DeleteResourcePolicy": secrets.delete_resource_policy,
    "ValidateResourcePolicy": secrets.validate_resource_policy,
    "GetSecretValue": values.get_secret_value,
    "BatchGetSecretValue": values.batch_get_secret_value,
    "PutSecretValue": values.put_secret_value,
    "ListSecretVersionIds": values.list_secret_version_ids,
    "UpdateSecretVersionStage": values.update_secret_version_stage,
    "GetRandomPassword": values.get_random_password,
    "RotateSecret": rotation.rotate_secret,
    "CancelRotateSecret": rotation.cancel_rotate_secret,
}

# The IAM action of every operation (for identity-policy enforcement): `secretsmanager:<Operation>`.
ACTIONS: dict[str, str] = {operation: f"secretsmanager:{operation}" for operation in HANDLERS}


def resource_arn(deps: SecretsDeps, operation: str, params: dict[str, Any]) -> str:
    """The secret an operation acts on, as IAM sees it (its full ARN), or `*` (CreateSecret: the ARN is
    not known yet; ListSecrets, GetRandomPassword, BatchGetSecretValue: no single secret)."""
    secret_id = params.get("SecretId")
    if not isinstance(secret_id, str):
        return "*"
    try:
        return deps.secrets.find(secret_id).arn
    except AwsError:
        return "*"


class SecretsManagerApi:
    def __init__(self, deps: SecretsDeps, authorizer: Authorizer | None = None) -> None:
        self._deps = deps
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)

    @cached_property
    def protocol(self) -> JsonProtocol:
        """Loaded at the first request: the model is megabytes a server that never sees one need not hold."""
        return JsonProtocol(load_service_model("secretsmanager"))

    async def handle(self, request: WireRequest) -> WireResponse:
        return self.protocol.answer(
            request,
            HANDLERS,
            self._deps,
            service="Secrets Manager",
            internal_code="InternalServiceError",
            authorize=None
            if self._authorizer is None
            else self._authorizer.hook(
                request.principal_arn, request.client_host, "secretsmanager", self._checks
            ),
        )

    def _checks(self, operation: str, params: dict[str, Any]) -> list[Check]:
        """The operation's action on its secret; the secret's resource policy takes part."""
        arn = resource_arn(self._deps, operation, params)
        policy = self._deps.secrets.find(arn).resource_policy if arn != "*" else None
        return [Check(ACTIONS[operation], arn, policy=policy)]
