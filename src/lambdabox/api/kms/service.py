"""The KMS front end: json-protocol dispatch, and each operation's IAM action and resource in one place."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from lambdabox.api.kms import crypto, keys
from lambdabox.aws.json_protocol import JsonProtocol
from lambdabox.aws.model import load_service_model
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.kms.service import KmsService
from lambdabox.errors import AwsError

Handler = Callable[[KmsService, dict[str, Any]], dict[str, Any] | None]

HANDLERS: dict[str, Handler] = {
    "CreateKey": keys.create_key,
    "DescribeKey": keys.describe_key,
    "ListKeys": keys.list_keys,
    "EnableKey": keys.enable_key,
    "DisableKey": keys.disable_key,
    "ScheduleKeyDeletion": keys.schedule_key_deletion,
    "CancelKeyDeletion": keys.cancel_key_deletion,
    "UpdateKeyDescription": keys.update_key_description,
    "TagResource": keys.tag_resource,
    "UntagResource": keys.untag_resource,
    "ListResourceTags": keys.list_resource_tags,
    "CreateAlias": keys.create_alias,
    "UpdateAlias": keys.update_alias,
    "DeleteAlias": keys.delete_alias,
    "ListAliases": keys.list_aliases,
    "GetKeyPolicy": keys.get_key_policy,
    "PutKeyPolicy": keys.put_key_policy,
    "ListKeyPolicies": keys.list_key_policies,
    "GetKeyRotationStatus": keys.get_key_rotation_status,
    "EnableKeyRotation": keys.enable_key_rotation,
    "DisableKeyRotation": keys.disable_key_rotation,
    "Encrypt": crypto.encrypt,
    "ReEncrypt": crypto.re_encrypt,
    "Decrypt": crypto.decrypt,
    "GenerateDataKey": crypto.generate_data_key,
    "GenerateDataKeyWithoutPlaintext": crypto.generate_data_key_without_plaintext,
    "GenerateRandom": crypto.generate_random,
}

# The IAM action of every operation (for identity-policy enforcement): `kms:<Operation>`.
ACTIONS: dict[str, str] = {operation: f"kms:{operation}" for operation in HANDLERS}


def resource_arn(kms: KmsService, operation: str, params: dict[str, Any]) -> str:
    """The resource an operation acts on, as IAM sees it: the key's ARN, an alias ARN, or `*`."""
    if operation in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        return kms.alias_arn(str(params["AliasName"]))
    ref = params.get("KeyId")
    if not isinstance(ref, str):
        return "*"
    try:
        return kms.key_arn(kms.resolve(ref).key_id)
    except AwsError:
        return "*"


class KmsApi:
    def __init__(self, kms: KmsService, authorizer: Authorizer | None = None) -> None:
        self._kms = kms
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)

    @cached_property
    def protocol(self) -> JsonProtocol:
        """Loaded at the first request: the model is megabytes a server that never sees one need not hold."""
        return JsonProtocol(load_service_model("kms"))

    async def handle(self, request: WireRequest) -> WireResponse:
        return self.protocol.answer(
            request,
            HANDLERS,
            self._kms,
            service="KMS",
            internal_code="KMSInternalException",
            authorize=None
            if self._authorizer is None
            else self._authorizer.hook(request.principal_arn, request.client_host, "kms", self._checks),
        )

    def _checks(self, operation: str, params: dict[str, Any]) -> list[Check]:
        """The operation's action on its key or alias; a key's key policy takes part as its resource policy."""
        arn = resource_arn(self._kms, operation, params)
        policy = None
        if ":key/" in arn:
            try:
                policy = self._kms.policy(arn, "default")
            except AwsError:
                policy = None
        return [Check(ACTIONS[operation], arn, policy=policy)]
