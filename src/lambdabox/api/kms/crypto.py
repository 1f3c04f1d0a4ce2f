"""Encrypt, Decrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom."""

from __future__ import annotations

from typing import Any

from lambdabox.core.kms.service import KmsService
from lambdabox.errors import AwsError

ALGORITHM = "SYMMETRIC_DEFAULT"


def _dry_run(kms: KmsService, params: dict[str, Any], key_ref: str | None) -> None:
    """`DryRun`: the checks run (the key must be usable), nothing is done."""
    if params.get("DryRun"):
        if key_ref is not None:
            kms.usable(key_ref)
        raise AwsError(
            "DryRunOperationException", "The request would have succeeded, but the DryRun option is set."
        )


def _algorithm(params: dict[str, Any]) -> None:
    given = params.get("EncryptionAlgorithm", ALGORITHM)
    if given != ALGORITHM:
        raise AwsError(
            "InvalidKeyUsageException",
            f"The encryption algorithm {given} is not valid for a SYMMETRIC_DEFAULT key.",
        )


def encrypt(kms: KmsService, params: dict[str, Any]) -> dict[str, Any]:
    _algorithm(params)
    _dry_run(kms, params, params["KeyId"])
    if len(params["Plaintext"]) > 4096:  # blob lengths are not checked by the model-driven validation
        raise AwsError(
            "ValidationException",
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have "
            "length less than or equal to 4096",
        )
    key, blob = kms.encrypt(params["KeyId"], params["Plaintext"], params.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "KeyId": kms.key_arn(key.key_id), "EncryptionAlgorithm": ALGORITHM}


def decrypt(kms: KmsService, params: dict[str, Any]) -> dict[str, Any]:
    _algorithm(params)
    _dry_run(kms, params, params.get("KeyId"))
    result = kms.decrypt(params["CiphertextBlob"], params.get("EncryptionContext"), params.get("KeyId"))
    return {
        "KeyId": kms.key_arn(result.key_id),
        "Plaintext": result.plaintext,
        "EncryptionAlgorithm": ALGORITHM,
    }


def re_encrypt(kms: KmsService, params: dict[str, Any]) -> dict[str, Any]:
    for member in ("SourceEncryptionAlgorithm", "DestinationEncryptionAlgorithm"):
        _algorithm({"EncryptionAlgorithm": params.get(member, ALGORITHM)})
    _dry_run(kms, params, params["DestinationKeyId"])
    source, key, blob = kms.re_encrypt(
        params["CiphertextBlob"],
        params.get("SourceEncryptionContext"),
        params.get("SourceKeyId"),
        params["DestinationKeyId"],
        params.get("DestinationEncryptionContext"),
    )
    return {
        "CiphertextBlob": blob,
        "SourceKeyId": kms.key_arn(source),
        "KeyId": kms.key_arn(key.key_id),
        "SourceEncryptionAlgorithm": ALGORITHM,
        "DestinationEncryptionAlgorithm": ALGORITHM,
    }


def generate_data_key(kms: KmsService, params: dict[str, Any]) -> dict[str, Any]:
    _dry_run(kms, params, params["KeyId"])
    key, plaintext, blob = kms.generate_data_key(
        params["KeyId"], params.get("KeySpec"), params.get("NumberOfBytes"), params.get("EncryptionContext")
    )
    return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": kms.key_arn(key.key_id)}


def generate_data_key_without_plaintext(kms: KmsService, params: dict[str, Any]) -> dict[str, Any]:
    result = generate_data_key(kms, params)
    del result["Plaintext"]
    return result


def generate_random(kms: KmsService, params: dict[str, Any]) -> dict[str, Any]:
    size = params.get("NumberOfBytes")
    if size is None:
        raise AwsError("ValidationException", "Please specify number of bytes.")
    return {"Plaintext": kms.generate_random(size)}
