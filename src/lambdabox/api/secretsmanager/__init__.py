"""The AWS Secrets Manager API (json protocol, target prefix `secretsmanager`)."""

from lambdabox.api.secretsmanager.service import SecretsManagerApi

__all__ = ["SecretsManagerApi"]
