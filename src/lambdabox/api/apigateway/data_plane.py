"""The API Gateway data plane on the shared port: a `DataPlane` of the edge, which reads each request whole.

An API is addressed by host, `http://<api-id>.execute-api.localhost:<port>/<stage>/<path>` (`localhost`
names resolve to loopback), or, for clients that cannot resolve `*.localhost`, by the path form
`http://127.0.0.1:<port>/_lambdabox/execute-api/<api-id>/<stage>/<path>`. Request bodies are read up to
API Gateway's 10 MB limit; a larger one is refused with 413 as it arrives."""

from __future__ import annotations

import re

from lambdabox.api.http_wire import to_wire
from lambdabox.aws import json_auth
from lambdabox.aws.sigv4 import SignatureError, Verifier
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.apigateway.access import SignatureRefused
from lambdabox.core.apigateway.gateway import Gateway
from lambdabox.core.apigateway.integration import MAX_REQUEST_BODY
from lambdabox.core.http.request import HttpRequest, HttpResponse
from lambdabox.core.identity import AccessKey

PATH_PREFIX = "/_lambdabox/execute-api/"
_HOST = re.compile(r"([a-z0-9]+)\.execute-api(?:\.[a-z0-9-]+)?\.localhost(?::\d+)?", re.IGNORECASE)
_NOT_FOUND = HttpResponse(404, (("content-type", "application/json"),), b'{"message":"Not Found"}')


def _address(host: str, raw_path: str) -> tuple[str, str, str] | None:
    """(api id, path below the API's endpoint, domain name)."""
    if raw_path.startswith(PATH_PREFIX):
        api_id, _, rest = raw_path[len(PATH_PREFIX) :].partition("/")
        return api_id.lower(), "/" + rest, f"{api_id.lower()}.execute-api.localhost"
    match = _HOST.fullmatch(host)
    if match is None:
        return None
    return match.group(1).lower(), raw_path or "/", host.rsplit(":", 1)[0]


class ExecuteApi:
    max_body = MAX_REQUEST_BODY

    def __init__(self, gateway: Gateway, verifier: Verifier | None, root: AccessKey) -> None:
        """`verifier`: SigV4 for AWS_IAM routes and methods (None: authentication is off, and every request
        counts as signed by `root`)."""
        self._gateway = gateway
        self._verifier = verifier
        self._root = root

    def too_large(self, head: WireRequest) -> WireResponse:
        address = _address(head.header("host") or "", head.raw_path)
        return to_wire(self._gateway.too_large(address[0] if address is not None else None))

    async def handle(self, request: WireRequest) -> WireResponse:
        address = _address(request.header("host") or "", request.raw_path)
        if address is None:
            return to_wire(_NOT_FOUND)
        api_id, path, domain = address
        http_request = HttpRequest(
            method=request.method,
            raw_path=path,
            raw_query=request.query_string,
            headers=request.header_pairs,
            body=request.body,
            source_ip=request.client_host,
            protocol=f"HTTP/{request.http_version}",
            domain_name=domain,
        )
        return to_wire(await self._gateway.handle(api_id, http_request, lambda: self._signer(request)))

    def _signer(self, request: WireRequest) -> AccessKey | None:
        if self._verifier is None:
            return self._root
        try:
            verified = self._verifier.signer_of(request, "execute-api", body=request.body)
        except SignatureError as error:
            raise SignatureRefused(json_auth.refused("execute-api", error).message) from None
        return verified.key if verified is not None else None
