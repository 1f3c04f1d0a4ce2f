"""Function URL CORS headers from a URL's Cors configuration."""

from __future__ import annotations

from lambdabox.api.function_urls.cors import is_preflight, preflight_headers, response_headers
from lambdabox.core.function_urls import Cors


def test_preflight() -> None:
    assert is_preflight("OPTIONS", "https://a", "GET")
    assert not is_preflight("OPTIONS", None, "GET") and not is_preflight("GET", "https://a", "GET")
    cors = Cors(
        allow_origins=("https://a",),
        allow_methods=("GET", "POST"),
        allow_headers=("x-one",),
        allow_credentials=True,
        max_age=10,
    )
    assert dict(preflight_headers(cors, "https://a", "POST", "x-one")) == {
        "Access-Control-Allow-Origin": "https://a",
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "x-one",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Max-Age": "10",
        "Vary": "Origin",
    }
    assert preflight_headers(cors, "https://b", "POST", None) == []
    assert preflight_headers(cors, "https://a", "DELETE", None) == []


def test_wildcards() -> None:
    cors = Cors(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
    headers = dict(preflight_headers(cors, "https://any", "PATCH", "x-a, x-b"))
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "PATCH"
    assert headers["Access-Control-Allow-Headers"] == "x-a, x-b"


def test_actual_response_headers() -> None:
    cors = Cors(allow_origins=("https://a",), expose_headers=("x-r",))
    assert dict(response_headers(cors, "https://a")) == {
        "Access-Control-Allow-Origin": "https://a",
        "Access-Control-Expose-Headers": "x-r",
        "Vary": "Origin",
    }
    assert response_headers(cors, "https://b") == []
