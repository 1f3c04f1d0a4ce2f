"""The AWS KMS API (json protocol, target prefix `TrentService`)."""

from lambdabox.api.kms.service import KmsApi

__all__ = ["KmsApi"]
