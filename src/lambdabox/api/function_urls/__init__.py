"""Lambda function URLs' data plane (the configuration API is in `api/lambda_/urls.py`)."""

from lambdabox.api.function_urls.app import FunctionUrlApi, UrlDeps

__all__ = ["FunctionUrlApi", "UrlDeps"]
