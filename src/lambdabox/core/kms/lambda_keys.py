"""The KMS keys of Lambda functions' environment variables: `KMSKeyArn`, or the AWS-managed `alias/aws/lambda`.

Variables are stored sealed under the key (`storage/sealed_functions.py`); the function sees plaintext. The
key must exist when a function is configured with it, and be usable when the function is invoked: a
disabled key fails Invoke with KMSDisabledException (502), one pending deletion with
KMSInvalidStateException, a deleted one with KMSNotFoundException, as AWS.
"""

from __future__ import annotations

import base64

import orjson

from lambdabox.core.kms import crypto
from lambdabox.core.kms.models import KeyState
from lambdabox.core.kms.service import KmsService
from lambdabox.core.models import FunctionVersion
from lambdabox.errors import AwsError

DEFAULT_KEY = "alias/aws/lambda"
_DECRYPT = "Lambda was unable to decrypt the environment variables because the KMS key"


class LambdaKeys:
    def __init__(self, kms: KmsService) -> None:
        self._kms = kms

    def check_config(self, key_arn: str) -> None:
        try:
            self._kms.resolve(key_arn)
        except AwsError as error:
            raise AwsError(
                "InvalidParameterValueException",
                "Lambda was unable to configure access to your environment variables because the KMS key is "
                f"invalid for CreateGrant. Please check your KMS key settings. KMS Exception: {error.code} "
                f"KMS Message: {error.message}",
            ) from None

    def check_invocable(self, version: FunctionVersion) -> None:
        if not version.environment:
            return
        try:
            key = self._kms.resolve(version.kms_key_arn or DEFAULT_KEY)
        except AwsError:
            raise AwsError(
                "KMSNotFoundException",
                f"{_DECRYPT} was not found. Please check the function's KMS key settings.",
                502,
            ) from None
        if key.state is KeyState.DISABLED:
            raise AwsError(
                "KMSDisabledException",
                f"{_DECRYPT} used is disabled. Please check the function's KMS key settings.",
                502,
            )
        if key.state is KeyState.PENDING_DELETION:
            raise AwsError(
                "KMSInvalidStateException",
                f"{_DECRYPT} used is in an invalid state for Decrypt. Please check the function's KMS key settings.",
                502,
            )

    # -- at rest ---------------------------------------------------------------------------------------
    def seal(self, version: FunctionVersion, variables: dict[str, str]) -> str:
        context = {"LambdaFunctionName": version.name}
        plaintext = orjson.dumps(variables)
        try:
            blob = self._kms.seal_at_rest(version.kms_key_arn or DEFAULT_KEY, plaintext, context)
        except AwsError:  # the function's key is gone: the variables stay protected by Lambda's own key
            blob = self._kms.seal_at_rest(DEFAULT_KEY, plaintext, context)
        return base64.b64encode(blob).decode()

    def open(self, version: FunctionVersion, sealed: str) -> dict[str, str]:
        try:
            plaintext = self._kms.open_at_rest(base64.b64decode(sealed), {"LambdaFunctionName": version.name})
        except (AwsError, crypto.BadCiphertext, ValueError):
            return {}  # key deleted: the variables are lost, as on AWS (Invoke answers KMSNotFoundException)
        variables = orjson.loads(plaintext)
        assert isinstance(variables, dict)
        return variables
