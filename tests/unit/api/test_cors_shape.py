"""The `Cors` answer shared by Lambda function URLs and API Gateway HTTP APIs."""

from __future__ import annotations

from lambdabox.api.cors_shape import cors_shape
from lambdabox.core.apigateway.models import Cors as HttpApiCors
from lambdabox.core.function_urls import Cors as UrlCors


def test_function_url_cors_keeps_lists_set_empty() -> None:
    cors = UrlCors(allow_credentials=False, allow_origins=("*",), allow_methods=(), max_age=0)
    assert cors_shape(cors) == {
        "AllowCredentials": False,
        "AllowMethods": [],
        "AllowOrigins": ["*"],
        "MaxAge": 0,
    }
    assert cors_shape(UrlCors()) == {}


def test_http_api_cors_leaves_empty_lists_out() -> None:
    cors = HttpApiCors(allow_origins=("https://a",), allow_headers=("x-a",), max_age=5)
    assert cors_shape(cors, omit_empty=True) == {
        "AllowHeaders": ["x-a"],
        "AllowOrigins": ["https://a"],
        "MaxAge": 5,
    }
