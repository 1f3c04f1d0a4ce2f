"""The CloudWatch Logs API (botocore service `logs`, json protocol)."""

from lambdabox.api.logs.service import LogsService

__all__ = ["LogsService"]
