"""The AWS Security Token Service API (query protocol, version 2011-06-15)."""

from lambdabox.api.sts.service import StsApi

__all__ = ["StsApi"]
