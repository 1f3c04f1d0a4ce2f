"""The S3 front end: an ASGI app that receives each request before its body is read, routes it with the
model-driven rest-xml protocol and streams object bodies both ways."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from lambdabox.api.s3 import (
    buckets,
    cors,
    listing,
    multipart,
    notifications,
    objects,
    policy,
    post_object,
    tagging,
    versioning,
)
from lambdabox.api.s3.addressing import Addressing
from lambdabox.api.s3.auth import S3Auth
from lambdabox.api.s3.body import ClientDisconnected, RequestBody, verify_small_body
from lambdabox.api.s3.context import Handler, S3Call, S3Deps, S3Result
from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_xml import RestXmlProtocol
from lambdabox.core.iam.actions import s3_checks, s3_delete_check
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.s3.models import Requester
from lambdabox.errors import AwsError, not_implemented

log = logging.getLogger("lambdabox.s3")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    "CreateBucket": buckets.create_bucket,
    "HeadBucket": buckets.head_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "ListBuckets": buckets.list_buckets,
    "GetBucketLocation": buckets.get_bucket_location,
    "GetBucketVersioning": versioning.get_bucket_versioning,
    "PutBucketVersioning": versioning.put_bucket_versioning,
    "ListObjectVersions": versioning.list_object_versions,
    "PutObject": objects.put_object,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "DeleteObject": objects.delete_object,
    "DeleteObjects": objects.delete_objects,
    "CopyObject": objects.copy_object,
    "ListObjects": listing.list_objects,
    "ListObjectsV2": listing.list_objects_v2,
    "PutObjectTagging": tagging.put_object_tagging,
    "GetObjectTagging": tagging.get_object_tagging,
    "DeleteObjectTagging": tagging.delete_object_tagging,
    "PutBucketTagging": tagging.put_bucket_tagging,
    "GetBucketTagging": tagging.get_bucket_tagging,
    "DeleteBucketTagging": tagging.delete_bucket_tagging,
    "PutBucketNotificationConfiguration": notifications.put_bucket_notification_configuration,
    "GetBucketNotificationConfiguration": notifications.get_bucket_notification_configuration,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart.list_parts,
    "ListMultipartUploads": multipart.list_multipart_uploads,
    "PutBucketCors": cors.put_bucket_cors,
    "GetBucketCors": cors.get_bucket_cors,
    "DeleteBucketCors": cors.delete_bucket_cors,
    "PutBucketPolicy": policy.put_bucket_policy,
    "GetBucketPolicy": policy.get_bucket_policy,
    "DeleteBucketPolicy": policy.delete_bucket_policy,
    "GetBucketPolicyStatus": policy.get_bucket_policy_status,
}

# Root elements of XML outputs that are not a payload member (S3's names, not derivable from the model).
ROOTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "DeleteObjects": "DeleteResult",
    "GetObjectTagging": "Tagging",
    "GetBucketTagging": "Tagging",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketVersioning": "VersioningConfiguration",
    "ListObjectVersions": "ListVersionsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "GetBucketCors": "CORSConfiguration",
}
# Operations whose x-amz-checksum-* headers are the object's checksum, not their XML body's.
OBJECT_CHECKSUM_HEADERS = frozenset({"CompleteMultipartUpload"})
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
_QUERY_ACCESS_KEY = re.compile(r"(?:X-Amz-Credential|AWSAccessKeyId)=([^&%/]+)")
_V2_ACCESS_KEY = re.compile(r"^AWS ([^:]+):")


def _principal(headers: dict[str, str], query_string: str) -> str:
    authorization = headers.get("authorization", "")
    match = _ACCESS_KEY.search(authorization) or _V2_ACCESS_KEY.search(authorization)
    if match is None:
        match = _QUERY_ACCESS_KEY.search(query_string)
    return f"AWS:{match.group(1)}" if match else "Anonymous"


def _unsigned_by_design(method: str, path: str, headers: dict[str, str]) -> bool:
    """CORS preflights and browser form uploads (a bucket POST of multipart/form-data) carry no SigV4."""
    if method == "OPTIONS":
        return True
    return (
        method == "POST"
        and path.rstrip("/").count("/") == 1
        and headers.get("content-type", "").lower().startswith("multipart/form-data")
    )


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


class S3Api:
    """`auth`: SigV4 verification of every request; `authorizer`: IAM authorization, bucket policies
    included (None: authentication is off)."""

    def __init__(
        self,
        deps: S3Deps,
        addressing: Addressing,
        auth: S3Auth | None = None,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._deps = deps
        self._addressing = addressing
        self._auth = auth
        self._authorizer = authorizer
        self.protocol = RestXmlProtocol(load_service_model("s3"), roots=ROOTS, preferred=("ListBuckets",))
        # Browser requests have no model operation; their outputs are serialized as these.
        self._post_output = self.protocol.model.operation_model("PutObject")  # ETag, encryption headers
        self._empty_output = self.protocol.model.operation_model("HeadBucket")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = secrets.token_hex(8).upper()
        host_id = base64.b64encode(secrets.token_bytes(48)).decode()
        headers = _headers(scope)
        method = scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0] or "/"
        query_string = scope.get("query_string", b"").decode("latin-1")
        bucket = self._addressing.bucket_of(headers.get("host"))
        if bucket is not None:
            path = f"/{bucket}" + ("" if path == "/" else path)
        client = scope.get("client") or ("127.0.0.1", 0)
        requester = Requester(request_id, host_id, client[0], _principal(headers, query_string))
        refused: AwsError | None = None
        signatures = None
        principal_arn: str | None = None
        if self._auth is not None:
            try:
                identity = self._auth.authenticate(
                    method,
                    raw_path.decode("latin-1").split("?", 1)[0],
                    query_string,
                    [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
                    unquote(path.split("/")[1]) or None,
                    bucket,
                    # With authorization on, anonymous requests go on: a bucket policy may allow them.
                    anonymous_allowed=self._authorizer is not None
                    or _unsigned_by_design(method, path, headers),
                )
                signatures = identity.chunks if identity is not None else None
                principal_arn = identity.key.principal_arn if identity is not None else None
            except AwsError as error:
                refused = error
        body = RequestBody(receive, headers, signatures)
        reply = _Reply(send, receive, body, method, request_id, host_id)
        if "origin" in headers and method != "OPTIONS":
            reply.extra_headers = cors.actual_request_headers(
                self._deps, unquote(path.split("/")[1]), method, headers
            )
        try:
            if refused is not None:
                raise refused
            query = parse_qsl(query_string, keep_blank_values=True)
            operation, result = await self._dispatch(
                method, path, query, headers, body, requester, principal_arn
            )
            status, out_headers, xml = self.protocol.serialize(operation, result.output)
            if result.status is not None:
                status = result.status
            out_headers.update(result.headers)
            if result.raw is not None:
                xml = result.raw
                out_headers["Content-Type"] = "application/xml"
            await reply.send(status, out_headers, result.stream or xml, close=not body.consumed)
        except ClientDisconnected:
            return
        except AwsError as error:
            await reply.error(
                error, self.protocol.serialize_error(error, request_id, host_id, unquote(path)), body
            )
        except Exception:
            log.exception("S3 request %s (%s %s) failed", request_id, method, path)
            if not reply.started:
                internal = AwsError(
                    "InternalError", "We encountered an internal error. Please try again.", 500
                )
                document = self.protocol.serialize_error(internal, request_id, host_id, None)
                await reply.error(internal, document, body)

    async def _dispatch(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: RequestBody,
        requester: Requester,
        principal_arn: str | None = None,
    ) -> tuple[Any, S3Result]:
        if _unsigned_by_design(method, path, headers):  # no model operation: browser requests
            bucket, _, key = unquote(path).lstrip("/").partition("/")
            params = {"Bucket": bucket, **({"Key": key} if key else {})}
            if method == "OPTIONS":
                call = S3Call(self._deps, "PreflightCors", params, headers, body, requester)
                return self._empty_output, await cors.preflight(call)
            call = S3Call(self._deps, "PostObject", params, headers, body, requester)
            authorize = None
            if self._authorizer is not None:
                authorizer = self._authorizer

                def authorize(signer: str | None, key: str) -> None:
                    checks = s3_checks("PostObject", {"Bucket": bucket, "Key": key}, headers)
                    authorizer.authorize(signer, lambda: checks, service="s3", source_ip=requester.source_ip)

            return self._post_output, await post_object.post_object(call, self._auth, authorize)
        operation, path_params = self.protocol.route(method, path, query, headers)
        handler = HANDLERS.get(operation.name)
        if handler is None:
            raise not_implemented("S3", operation.name, "NotImplemented")
        payload = None
        if not self.protocol.streaming_input(operation) and body.present:
            payload = await body.read_all()
            checked = headers
            if operation.name in OBJECT_CHECKSUM_HEADERS:  # x-amz-checksum-* describe the object
                checked = {k: v for k, v in headers.items() if not k.startswith("x-amz-checksum-")}
            verify_small_body(payload, checked, body.trailers)
        params = self.protocol.parse(operation, path_params, query, headers, payload)
        if self._authorizer is not None:
            name = operation.name
            source = None
            if name in ("CopyObject", "UploadPartCopy") and params.get("CopySource"):
                source = objects.copy_source(params["CopySource"])
            self._authorizer.authorize(
                principal_arn,
                lambda: s3_checks(name, params, headers, source),
                service="s3",
                source_ip=requester.source_ip,
            )
        call = S3Call(self._deps, operation.name, params, headers, body, requester)
        if self._authorizer is not None and operation.name == "DeleteObjects":
            call.authorize_delete = self._delete_authorizer(
                self._authorizer, principal_arn, params, requester
            )
        buckets.check_owner(call)
        return operation, await handler(call)

    @staticmethod
    def _delete_authorizer(
        authorizer: Authorizer, principal_arn: str | None, params: dict[str, Any], requester: Requester
    ) -> Callable[[str, str | None], None]:
        """DeleteObjects: each key needs s3:DeleteObject; a refused key is an `AccessDenied` entry of the
        result's errors, as S3 reports it, not a failed request."""
        bucket = str(params["Bucket"])

        def authorize(key: str, version: str | None) -> None:
            try:
                authorizer.authorize(
                    principal_arn,
                    lambda: [s3_delete_check(bucket, key, version)],
                    service="s3",
                    source_ip=requester.source_ip,
                )
            except AwsError:
                raise AwsError("AccessDenied", "Access Denied", 403) from None

        return authorize


class _Reply:
    def __init__(
        self, send: Send, receive: Receive, request: RequestBody, method: str, request_id: str, host_id: str
    ) -> None:
        self._send = send
        self._receive = receive
        self._request = request
        self._head = method == "HEAD"
        self._ids = [(b"x-amz-request-id", request_id.encode()), (b"x-amz-id-2", host_id.encode())]
        self.started = False
        self.extra_headers: dict[str, str] = {}  # CORS headers of a cross-origin request

    def _request_read(self) -> bool:
        return self._request.consumed

    async def send(
        self, status: int, headers: dict[str, str], body: bytes | AsyncIterator[bytes], *, close: bool
    ) -> None:
        headers = {**headers, **self.extra_headers}
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers.items()]
        names = {name for name, _ in raw}
        if isinstance(body, bytes) and b"content-length" not in names and status not in (204, 304):
            raw.append((b"content-length", str(len(body)).encode()))
        if close:
            raw.append((b"connection", b"close"))
        self.started = True
        await self._send({"type": "http.response.start", "status": status, "headers": raw + self._ids})
        if isinstance(body, bytes):
            await self._send({"type": "http.response.body", "body": b"" if self._head else body})
            return
        # With the request body read, `receive` only returns once the client has gone away.
        gone = asyncio.ensure_future(_disconnect(self._receive)) if self._request_read() else None
        try:
            async for chunk in body:
                if gone is not None and gone.done():
                    return  # the client disconnected: stop reading the object
                await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        except Exception:
            log.exception("S3 response body failed after the headers were sent")
            return  # the connection is closed with the response incomplete
        finally:
            if gone is not None:
                gone.cancel()
            await _close(body)
        await self._send({"type": "http.response.body", "body": b""})

    async def error(self, error: AwsError, document: bytes, body: RequestBody) -> None:
        headers = dict(error.headers)
        if error.status == 304 or self._head:
            await self.send(error.status, headers, b"", close=not body.consumed)
            return
        headers["Content-Type"] = "application/xml"
        await self.send(error.status, headers, document, close=not body.consumed)


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _close(stream: AsyncIterator[bytes]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()
