"""The AWS Systems Manager Parameter Store API (json protocol, target prefix `AmazonSSM`)."""

from lambdabox.api.ssm.service import SsmApi

__all__ = ["SsmApi"]
