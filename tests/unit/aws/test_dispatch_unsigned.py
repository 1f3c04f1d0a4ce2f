"""Unsigned query-protocol calls (IAM, STS) are recognised by their shape, so they are refused in their words."""

from __future__ import annotations

from lambdabox.aws.dispatch import service_of
from lambdabox.aws.wire import WireRequest

FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8", "host": "127.0.0.1:4566"}


def request(method: str, path: str, query: str = "", headers: dict[str, str] | None = None) -> WireRequest:
    return WireRequest(method, path, query, headers or {"host": "127.0.0.1:4566"}, b"")


def test_unsigned_query_calls_go_to_iam_or_sts() -> None:
    assert service_of(request("POST", "/", headers=FORM)) == "sts"
    assert service_of(request("GET", "/", "Action=ListUsers&Version=2010-05-08")) == "iam"
    assert service_of(request("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15")) == "sts"


def test_anything_else_unsigned_stays_with_s3() -> None:
    assert service_of(request("GET", "/")) is None  # ListBuckets
    assert service_of(request("POST", "/bucket", headers=FORM)) is None
    assert service_of(request("GET", "/", "Version=2010-05-08")) is None
    assert service_of(request("GET", "/", "Action=ListUsers&Version=2099-01-01")) is None
    virtual_host = {**FORM, "host": "bucket.s3.localhost:4566"}
    assert service_of(request("POST", "/", headers=virtual_host)) == "s3"
