"""Browser-facing S3: form uploads (POST Object with a signed policy), CORS configuration, preflights and
CORS headers, bucket policies (stored and validated)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.conftest import Server, raw_request, unique
from tests.functional.test_s3_notifications import RECORDER, allow_s3, lambda_config, wait_for
from tests.signing import sign

PAYLOAD = b"hello from a browser form"


@pytest.fixture(scope="module")
def s3v4(server: Server) -> Any:
    return server.client("s3", signature_version="s3v4")


def post_form(
    url: str,
    fields: dict[str, str],
    file: bytes = PAYLOAD,
    filename: str = "hello.txt",
    redirect: bool = True,
) -> urllib3.BaseHTTPResponse:
    """The form as a browser sends it: the fields, then the file."""
    form: dict[str, Any] = {**fields, "file": (filename, file, "application/octet-stream")}
    return raw_request("POST", url, fields=form, redirect=redirect)


def error(response: urllib3.BaseHTTPResponse) -> tuple[int, str, str]:
    document = ElementTree.fromstring(response.data)
    return response.status, document.findtext("Code") or "", document.findtext("Message") or ""


# -- POST Object ---------------------------------------------------------------------------------------
def test_presigned_post_with_sigv4_conditions_and_201(s3: Any, s3v4: Any, bucket: str) -> None:
    post = s3v4.generate_presigned_post(
        bucket,
        "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-who": "me", "success_action_status": "201"},
        Conditions=[
            ["starts-with", "$key", "uploads/"],
            {"Content-Type": "text/plain"},
            {"x-amz-meta-who": "me"},
            {"success_action_status": "201"},
            ["content-length-range", 1, 1000],
        ],
        ExpiresIn=300,
    )
    assert "x-amz-signature" in post["fields"] and "x-amz-credential" in post["fields"]
    response = post_form(post["url"], post["fields"])
    assert response.status == 201, response.data
    document = ElementTree.fromstring(response.data)
    assert document.tag == "PostResponse"
    assert (document.findtext("Bucket"), document.findtext("Key")) == (bucket, "uploads/hello.txt")
    assert document.findtext("ETag") == response.headers["ETag"]
    assert document.findtext("Location", "").endswith(f"/{bucket}/uploads/hello.txt")
    got = s3.get_object(Bucket=bucket, Key="uploads/hello.txt")
    assert got["Body"].read() == PAYLOAD
    assert (got["ContentType"], got["Metadata"]) == ("text/plain", {"who": "me"})


def test_presigned_post_with_boto3_defaults_signature_version_2(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(bucket, "plain.bin")
    assert "signature" in post["fields"] and "AWSAccessKeyId" in post["fields"]
    response = post_form(post["url"], post["fields"])
    assert (response.status, response.data) == (204, b"")
    assert response.headers["ETag"] == s3.head_object(Bucket=bucket, Key="plain.bin")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="plain.bin")["Body"].read() == PAYLOAD


def test_policy_conditions_are_enforced(s3: Any, s3v4: Any, bucket: str) -> None:
    post = s3v4.generate_presigned_post(
        bucket,
        "uploads/${filename}",
        Conditions=[["starts-with", "$key", "uploads/"], ["content-length-range", 1, 10]],
    )
    fields = post["fields"]
    outside = post_form(post["url"], {**fields, "key": "elsewhere/x"})
    assert error(outside) == (
        403,
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]',
    )
    extra = post_form(post["url"], {**fields, "x-amz-meta-extra": "1"}, file=b"small")
    assert error(extra) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Extra input fields: x-amz-meta-extra",
    )
    too_large = post_form(post["url"], fields)  # 25 bytes > 10
    status, code, _ = error(too_large)
    assert (status, code) == (400, "EntityTooLarge")
    assert ElementTree.fromstring(too_large.data).findtext("MaxSizeAllowed") == "10"
    too_small = post_form(post["url"], fields, file=b"")
    assert error(too_small)[:2] == (400, "EntityTooSmall")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="uploads/hello.txt")
    assert post_form(post["url"], fields, file=b"small").status == 204


def test_signature_expiry_and_required_fields(s3v4: Any, bucket: str) -> None:
    post = s3v4.generate_presigned_post(bucket, "k")
    fields = post["fields"]
    tampered = post_form(post["url"], {**fields, "x-amz-signature": "0" * 64})
    assert error(tampered)[:2] == (403, "SignatureDoesNotMatch")
    forged_policy = post_form(post["url"], {**fields, "policy": fields["policy"][:-4] + "AAA="})
    assert error(forged_policy)[:2] == (403, "SignatureDoesNotMatch")
    expired = s3v4.generate_presigned_post(bucket, "k", ExpiresIn=-60)
    assert error(post_form(expired["url"], expired["fields"])) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )
    no_key = {name: value for name, value in fields.items() if name != "key"}
    status, code, message = error(post_form(post["url"], no_key))
    assert (status, code) == (400, "InvalidArgument")
    assert message.startswith("Bucket POST must contain a field named 'key'.")
    no_signature = {name: value for name, value in fields.items() if name != "x-amz-signature"}
    assert "'X-Amz-Signature'" in error(post_form(post["url"], no_signature))[2]
    anonymous = post_form(post["url"], {"key": "anonymous"})
    assert error(anonymous) == (403, "AccessDenied", "Access Denied")
    no_file = raw_request("POST", post["url"], fields=fields)
    assert error(no_file)[:2] == (400, "InvalidArgument")


def test_success_action_redirect(s3v4: Any, bucket: str) -> None:
    target = "https://example.com/done?from=form"
    post = s3v4.generate_presigned_post(
        bucket,
        "r.txt",
        Fields={"success_action_redirect": target},
        Conditions=[{"success_action_redirect": target}],
    )
    response = post_form(post["url"], post["fields"], redirect=False)
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert (location.netloc, query["from"], query["bucket"], query["key"]) == (
        "example.com",
        ["form"],
        [bucket],
        ["r.txt"],
    )
    assert query["etag"][0].startswith('"')


def test_post_fires_object_created_post(s3: Any, s3v4: Any, lambda_client: Any, deploy: Any) -> None:
    source, sink = unique("postsrc"), unique("postsink")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=sink)
    name = deploy(RECORDER, Environment={"Variables": {"SINK": sink}})
    allow_s3(lambda_client, name, source)
    s3.put_bucket_notification_configuration(
        Bucket=source,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [lambda_config(name, ["s3:ObjectCreated:Post"])]
        },
    )
    post = s3v4.generate_presigned_post(source, "posted.txt")
    assert post_form(post["url"], post["fields"]).status == 204
    s3.put_object(Bucket=source, Key="put.txt", Body=b"not a post")  # not configured: no event
    listed = wait_for(lambda: s3.list_objects_v2(Bucket=sink).get("Contents"))
    record = json.loads(s3.get_object(Bucket=sink, Key=listed[0]["Key"])["Body"].read())["Records"][0]
    assert (record["eventName"], record["s3"]["object"]["key"]) == ("ObjectCreated:Post", "posted.txt")
    assert record["s3"]["object"]["size"] == len(PAYLOAD)


# -- CORS ----------------------------------------------------------------------------------------------
RULES = [
    {
        "ID": "app",
        "AllowedOrigins": ["https://*.example.com"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["content-type", "x-amz-*"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"],
        "MaxAgeSeconds": 3000,
    },
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


def test_bucket_cors_round_trip_and_validation(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_cors(Bucket=bucket)
    assert excinfo.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    cases = [
        ([{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}], "InvalidRequest"),
        ([{"AllowedOrigins": ["https://*.*.com"], "AllowedMethods": ["GET"]}], "InvalidRequest"),
        (
            [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]}],
            "InvalidRequest",
        ),
        ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-*"]}], "InvalidRequest"),
        ([], "MalformedXML"),
        ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101, "MalformedXML"),
    ]
    for rules, code in cases:
        with pytest.raises(ClientError) as excinfo:
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
        assert excinfo.value.response["Error"]["Code"] == code, rules
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cases[0][0]})
    assert excinfo.value.response["Error"]["Message"] == (
        "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"
    )
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def test_preflight_is_answered_per_rules(server: Server, s3: Any, bucket: str) -> None:
    url = f"{server.endpoint}/{bucket}/some/key"
    ask = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    assert error(raw_request("OPTIONS", url, headers=ask)) == (
        403,
        "AccessForbidden",
        "CORSResponse: CORS is not enabled for this bucket.",
    )
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    allowed = raw_request(
        "OPTIONS", url, headers={**ask, "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"}
    )
    assert allowed.status == 200, allowed.data
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert allowed.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert allowed.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
    assert allowed.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    assert allowed.headers["Access-Control-Max-Age"] == "3000"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    for refused in (
        {**ask, "Origin": "https://evil.example.org"},
        {**ask, "Access-Control-Request-Method": "DELETE"},
        {**ask, "Access-Control-Request-Headers": "authorization"},
    ):
        status, code, message = error(raw_request("OPTIONS", url, headers=refused))
        assert (status, code) == (403, "AccessForbidden")
        assert message.startswith("CORSResponse: This CORS request is not allowed.")
    anyone = raw_request(
        "OPTIONS", url, headers={"Origin": "http://x", "Access-Control-Request-Method": "HEAD"}
    )
    assert (anyone.status, anyone.headers["Access-Control-Allow-Origin"]) == (200, "*")
    assert "Access-Control-Allow-Credentials" not in anyone.headers
    assert error(raw_request("OPTIONS", url))[:2] == (400, "BadRequest")
    missing = f"{server.endpoint}/{unique('nobucket')}/k"
    assert error(raw_request("OPTIONS", missing, headers=ask))[2] == "CORSResponse: Bucket not found"


def test_actual_requests_get_cors_headers(server: Server, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="doc", Body=b"x")
    url = f"{server.endpoint}/{bucket}/doc"
    origin = {"Origin": "https://app.example.com"}
    got = raw_request("GET", url, headers=sign("GET", url, headers=origin))
    assert got.status == 200
    assert got.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert got.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    other = raw_request("GET", url, headers=sign("GET", url, headers={"Origin": "https://elsewhere.org"}))
    assert other.status == 200 and "Access-Control-Allow-Origin" not in other.headers
    plain = raw_request("GET", url, headers=sign("GET", url))
    assert "Access-Control-Allow-Origin" not in plain.headers


# -- bucket policy -------------------------------------------------------------------------------------
def policy_document(bucket: str, **statement: Any) -> str:
    base = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [{**base, **statement}]})


def test_bucket_policy_round_trip_status_and_validation(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_policy(Bucket=bucket)
    assert excinfo.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    public = policy_document(bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == public
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    private = policy_document(bucket, Principal={"AWS": "arn:aws:iam::000000000000:root"})
    s3.put_bucket_policy(Bucket=bucket, Policy=private)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    cases = {
        "not json": "Policies must be valid JSON and the first byte must be '{'",
        json.dumps({"Version": "2012-10-17"}): "Missing required field Statement",
        json.dumps({"Statement": []}): "Could not parse the policy: Statement is empty!",
        json.dumps(
            {"Version": "2020-01-01", "Statement": []}
        ): "The policy must contain a valid version string",
        policy_document(bucket, Effect="allow"): "Invalid effect: allow",
        policy_document(bucket, Action="ec2:RunInstances"): "Policy has invalid action",
        policy_document(bucket, Resource="arn:aws:s3:::another-bucket/*"): "Policy has invalid resource",
        policy_document(bucket, Principal={"AWS": "alice"}): "Invalid principal in policy",
        policy_document(bucket, Colour="blue"): "Unknown field Colour",
    }
    for text, message in cases.items():
        with pytest.raises(ClientError) as excinfo:
            s3.put_bucket_policy(Bucket=bucket, Policy=text)
        assert (excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]) == (
            "MalformedPolicy",
            message,
        )
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == private  # refused documents change nothing
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_policy_status(Bucket=bucket)
    assert excinfo.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
