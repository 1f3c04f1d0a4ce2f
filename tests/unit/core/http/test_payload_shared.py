"""The pieces payload versions 1.0 and 2.0 share: the requestContext head and response header lines."""

from __future__ import annotations

import pytest

from lambdabox.core.http.payload_v2 import header_lines, request_context
from lambdabox.core.http.request import MalformedResponse


def test_request_context_order_with_and_without_authorizer() -> None:
    context = request_context("1", "api", {"lambda": {"a": 1}}, {"stage": "s", "requestId": "r"})
    assert list(context) == ["accountId", "apiId", "authorizer", "stage", "requestId"]
    assert request_context("1", "api", None, {"stage": "s"}) == {
        "accountId": "1",
        "apiId": "api",
        "stage": "s",
    }


def test_multi_value_headers_win_over_single_ones() -> None:
    result = {"headers": {"A": "1", "b": 2}, "multiValueHeaders": {"a": ["x", "y"]}}
    assert header_lines(result, strict=True) == [("b", "2"), ("a", "x"), ("a", "y")]
    assert header_lines({}, strict=True) == []


def test_strict_refuses_a_single_multi_value_and_list_values() -> None:
    result = {"multiValueHeaders": {"a": "x"}}
    assert header_lines(result, strict=False) == [("a", "x")]
    with pytest.raises(MalformedResponse, match="must be lists"):
        header_lines(result, strict=True)
    with pytest.raises(MalformedResponse, match="must be an object"):
        header_lines({"headers": []}, strict=False)
    assert header_lines({"headers": {"a": ["x", 1]}}, strict=False) == [("a", "x,1")]
    with pytest.raises(MalformedResponse, match="is not a string"):
        header_lines({"headers": {"a": ["x"]}}, strict=True)
