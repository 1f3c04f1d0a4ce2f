"""Pure pieces of browser-facing S3: the streaming form reader, POST policy conditions, CORS matching and
bucket policy validation."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from urllib3 import encode_multipart_formdata

from lambdabox.api.s3.form import FormReader
from lambdabox.core.s3 import cors
from lambdabox.core.s3.bucket_policy import check_policy, is_public
from lambdabox.core.s3.post_policy import check_conditions, decode_policy
from lambdabox.errors import AwsError


async def _pieces(body: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def _read(body: bytes, content_type: str, size: int) -> tuple[dict[str, str], str | None, bytes]:
    async def run() -> tuple[dict[str, str], str | None, bytes]:
        reader = FormReader(content_type, _pieces(body, size))
        fields, file = await reader.fields()
        data = b"".join([chunk async for chunk in reader.file_chunks()]) if file else b""
        return fields, file.filename if file else None, data

    return asyncio.run(run())


@pytest.mark.parametrize("size", [1, 7, 64, 100000])
def test_form_reader_streams_the_file_whatever_the_chunking(size: int) -> None:
    payload = b"--tricky\r\n--boundary-lookalike\r\n" * 50 + bytes(range(256))
    body, content_type = encode_multipart_formdata(
        [("Key", "up/${filename}"), ("x-amz-meta-a", "b"), ("file", ("a.bin", payload)), ("after", "ignored")]
    )
    fields, filename, data = _read(body, content_type, size)
    assert fields == {"key": "up/${filename}", "x-amz-meta-a": "b"}
    assert (filename, data) == ("a.bin", payload)


def test_form_reader_refuses_broken_forms() -> None:
    with pytest.raises(AwsError) as excinfo:
        _read(b"no boundary here", "multipart/form-data; boundary=xyz", 10)
    assert excinfo.value.code == "MalformedPOSTRequest"
    big, content_type = encode_multipart_formdata([("a", "x" * 30000), ("file", ("f", b"1"))])
    with pytest.raises(AwsError) as excinfo:
        _read(big, content_type, 4096)
    assert excinfo.value.code == "MaxPostPreDataLengthExceededError"


def _policy(conditions: list[object], expires_in: float = 60) -> str:
    expiration = (datetime.now(UTC) + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return base64.b64encode(
        json.dumps({"expiration": expiration, "conditions": conditions}).encode()
    ).decode()


def test_post_policy_conditions() -> None:
    now = datetime.now(UTC)
    conditions = decode_policy(
        _policy([{"bucket": "b"}, ["starts-with", "$key", "u/"], ["content-length-range", 0, 5]]), now
    )
    size = check_conditions(conditions, {"key": "u/x", "policy": "p"}, "b", "u/x")
    assert size is not None and (size.minimum, size.maximum) == (0, 5)
    with pytest.raises(AwsError) as excinfo:
        check_conditions(conditions, {"key": "v/x"}, "b", "v/x")
    assert excinfo.value.message.endswith('Policy Condition failed: ["starts-with", "$key", "u/"]')
    with pytest.raises(AwsError) as excinfo:
        check_conditions(conditions, {"key": "u/x"}, "other", "u/x")
    assert excinfo.value.message.endswith('Policy Condition failed: {"bucket": "b"}')
    types = decode_policy(_policy([["starts-with", "$Content-Type", "image/"]]), now)
    check_conditions(types, {"content-type": "image/png, image/jpeg"}, "b", "k")
    with pytest.raises(AwsError):
        check_conditions(types, {"content-type": "image/png, text/html"}, "b", "k")
    with pytest.raises(AwsError) as excinfo:
        decode_policy(_policy([], expires_in=-1), now)
    assert excinfo.value.message == "Invalid according to Policy: Policy expired."
    with pytest.raises(AwsError) as excinfo:
        decode_policy(base64.b64encode(b"{}").decode(), now)
    assert excinfo.value.code == "InvalidPolicyDocument"


def test_cors_matching_and_wildcards() -> None:
    rules = cors.parse_rules(
        {
            "CORSRules": [
                {
                    "AllowedOrigins": ["https://*.example.com"],
                    "AllowedMethods": ["GET"],
                    "AllowedHeaders": ["x-amz-*"],
                },
                {"AllowedOrigins": ["*"], "AllowedMethods": ["PUT"]},
            ]
        }
    )
    assert cors.find_rule(rules, "https://a.example.com", "GET", ["x-amz-date"]) is rules[0]
    assert cors.find_rule(rules, "https://a.example.com", "GET", ["authorization"]) is None
    assert cors.find_rule(rules, "http://a.example.com", "GET") is None
    assert cors.find_rule(rules, "http://anything", "PUT") is rules[1]
    assert cors.wildcard_match("a*a", "a") is False and cors.wildcard_match("a*a", "aa") is True


def test_bucket_policy_validation() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    text = json.dumps({"Statement": statement})
    check_policy(text, "b")
    assert is_public(text)
    with pytest.raises(AwsError) as excinfo:
        check_policy(json.dumps({"Statement": {**statement, "NotPrincipal": "*"}}), "b")
    assert excinfo.value.message == "Statement/policy already has instance of Principal"
    with pytest.raises(AwsError) as excinfo:
        check_policy(json.dumps({"Statement": {**statement, "Action": []}}), "b")
    assert excinfo.value.message == "Missing required field Action cannot be empty!"
    with pytest.raises(AwsError) as excinfo:
        check_policy(" " * 20481, "b")
    assert excinfo.value.message == "Policy exceeds the maximum allowed document size."
    conditional = json.dumps(
        {"Statement": {**statement, "Condition": {"Bool": {"aws:SecureTransport": True}}}}
    )
    check_policy(conditional, "b")
    assert not is_public(conditional)
