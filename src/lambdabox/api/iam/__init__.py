"""The AWS Identity and Access Management API (query protocol, version 2010-05-08)."""

from lambdabox.api.iam.service import IamApi

__all__ = ["IamApi"]
