"""HTTP client for the Lambda Runtime API (``/2018-06-01/runtime/...``).

One keep-alive connection with TCP_NODELAY is reused for every call (opened by ``connect()`` before
Init, so that its set-up overlaps Init instead of delaying the first GET next). A warm invocation costs one
write and one wake-up: the POST of a result carries the following GET next behind it (HTTP/1.1
pipelining), and the Runtime API answers both in one write once the next event is there; responses
are parsed with ``http.client.HTTPResponse``. No timeout: GET next long-polls while the environment
may be frozen. A dropped connection is re-opened and the call retried once. Non-2xx answers are
fatal, as in awslambdaric: a line on stdout, then the process exits (GET next) or a RuntimeError
propagates (POST).
"""

from __future__ import annotations

import http.client
import socket
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

API_PREFIX = "/2018-06-01/runtime"
NEXT_PATH = API_PREFIX + "/invocation/next"
INVOCATION_PATH = API_PREFIX + "/invocation/"
INIT_ERROR_PATH = API_PREFIX + "/init/error"
RESTORE_NEXT_PATH = API_PREFIX + "/restore/next"
RESTORE_ERROR_PATH = API_PREFIX + "/restore/error"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
XRAY_ERROR_CAUSE_HEADER = "Lambda-Runtime-Function-XRay-Error-Cause"
INVOCATION_ID_HEADER = "Lambda-Runtime-Invocation-Id"
_MAX_XRAY_CAUSE_BYTES = 1024 * 1024
_MAX_LINE = 65536
_MAX_HEADERS = 100

# A connection problem worth one reconnect-and-retry.
_RETRYABLE = (OSError, http.client.HTTPException)
_illegal_header_value = http.client._is_illegal_header_value  # type: ignore[attr-defined]


def default_user_agent() -> str:
    v = sys.version_info
    return f"aws-lambda-python/{v.major}.{v.minor}.{v.micro}-lambdabox"


_NO_MESSAGE = http.client.HTTPMessage()


class _Response(http.client.HTTPResponse):
    """An HTTPResponse whose headers land in a lower-cased dict (``header_map``) instead of going
    through ``email.parser``, which would cost more than the rest of an invocation."""

    header_map: dict[str, str]

    def begin(self) -> None:
        if self.headers is not None:
            return
        readline = self.fp.readline
        while True:  # skip interim 1xx responses
            line = readline(_MAX_LINE + 1)
            if not line:
                raise http.client.RemoteDisconnected("Remote end closed connection without response")
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise http.client.BadStatusLine(str(line, "iso-8859-1"))
            status = int(parts[1])
            headers = {}
            while True:
                line = readline(_MAX_LINE + 1)
                if len(line) > _MAX_LINE:
                    raise http.client.LineTooLong("header line")
                if line in (b"\r\n", b"\n", b""):
                    break
                if len(headers) >= _MAX_HEADERS:
                    raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
                name, _, value = str(line, "iso-8859-1").partition(":")
                headers.setdefault(name.strip().lower(), value.strip())
            if status >= 200:
                break

        self.code = self.status = status
        self.reason = str(parts[2], "iso-8859-1").strip() if len(parts) > 2 else ""
        self.version = 10 if parts[0] == b"HTTP/1.0" else 11
        self.header_map = headers
        self.headers = self.msg = _NO_MESSAGE
        self.chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        self.chunk_left = None
        length = headers.get("content-length", "")
        self.length = int(length) if length.isdigit() and not self.chunked else None
        if status in (204, 304):
            self.length = 0
        connection = headers.get("connection", "").lower()
        self.will_close = (
            "close" in connection
            or (self.version == 10 and "keep-alive" not in connection)
            or (not self.chunked and self.length is None)
        )

    def _close_conn(self) -> None:
        self.fp = None  # type: ignore[assignment]  # the reader is the connection's, shared by its responses


class _Connection:
    """One keep-alive connection to the Runtime API: requests are written whole (one ``sendall``),
    responses parsed by ``_Response`` from one buffered reader shared by all of them, so that a
    response which arrived together with the previous one is not lost (requests may be pipelined)."""

    def __init__(self, address: str) -> None:
        parsed = http.client.HTTPConnection(address)  # only to split host and port as http.client does
        self.host_header = f"{parsed.host}:{parsed.port}".encode("latin-1")
        # A bytes host spares getaddrinfo the idna codec import (~2 ms at start-up).
        host: str | bytes = parsed.host.encode() if parsed.host.isascii() else parsed.host
        self.sock = socket.create_connection((host, parsed.port))  # type: ignore[arg-type]
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = self.sock.makefile("rb")

    def makefile(self, mode: str) -> Any:  # what http.client.HTTPResponse reads from
        return self._reader

    def receive(self, method: str) -> tuple[_Response, bytes]:
        response = _Response(self, method=method)  # type: ignore[arg-type]
        response.begin()
        return response, response.read()

    def close(self) -> None:
        self._reader.close()
        self.sock.close()


def _request(
    method: str,
    path: str,
    host: bytes,
    user_agent: bytes,
    headers: list[tuple[str, str | bytes]],
    body: bytes | None,
) -> bytes:
    lines = [
        b"%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
        % (method.encode(), path.encode(), host, user_agent)
    ]
    for name, value in headers:
        data = value.encode("latin-1") if isinstance(value, str) else value
        if _illegal_header_value(data):
            raise ValueError(f"Invalid header value {data!r}")
        lines.append(b"%s: %s\r\n" % (name.encode("ascii"), data))
    if body is not None:
        lines.append(b"Content-Length: %d\r\n" % len(body))
    lines.append(b"\r\n")
    if body:
        lines.append(body)
    return b"".join(lines)


class InvocationRequest:
    """One event from GET next, headers already interpreted as awslambdaric's native client does."""

    __slots__ = (
        "client_context",
        "cognito_identity",
        "content_type",
        "deadline_time_in_ms",
        "event_body",
        "invocation_id",
        "invoke_id",
        "invoked_function_arn",
        "tenant_id",
        "x_amzn_trace_id",
    )

    def __init__(self, event_body: bytes, headers: dict[str, str]) -> None:
        get = headers.get
        self.event_body = event_body
        self.invoke_id: str = get("lambda-runtime-aws-request-id", "")
        self.invoked_function_arn: str = get("lambda-runtime-invoked-function-arn", "")
        deadline = get("lambda-runtime-deadline-ms", "")
        self.deadline_time_in_ms: int = int(deadline) if deadline.isdigit() else 0
        # Empty values count as absent, as in the native client.
        self.x_amzn_trace_id: str | None = get("lambda-runtime-trace-id") or None
        self.client_context: str | None = get("lambda-runtime-client-context") or None
        self.cognito_identity: str | None = get("lambda-runtime-cognito-identity") or None
        self.tenant_id: str | None = get("lambda-runtime-aws-tenant-id") or None
        self.content_type: str | None = get("content-type") or None
        self.invocation_id: str | None = get("lambda-runtime-invocation-id") or None


def _log_runtime_error(message: str) -> None:
    # The native client's log line (it writes it to stdout).
    sys.stdout.write(f"[ERROR] [{int(time.time() * 1000)}] LAMBDA_RUNTIME {message}\n")


class RuntimeClient:
    def __init__(self, address: str, user_agent: str | None = None) -> None:
        self.address = address
        self.user_agent = user_agent or default_user_agent()
        self._conn: _Connection | None = None
        self._next_sent = False  # a GET next went out behind the last POST (pipelined), unanswered yet
        self._next_request: bytes | None = None

    def connect(self) -> None:
        """Open the connection now instead of at the first call, so that the Runtime API accepts it while
        Init runs; if it cannot be opened now, the first call tries again."""
        if self._conn is None:
            try:
                self._conn = _Connection(self.address)
            except OSError:
                self._conn = None  # the first call tries again

    def close(self) -> None:
        self._next_sent = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _call(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str | bytes]],
        body: bytes | None = None,
        *,
        then_next: bool = False,
    ) -> tuple[_Response, bytes]:
        """One request and its response. `then_next`: a GET next follows in the same write (HTTP/1.1
        pipelining), so the runtime is woken once, by the next event, instead of by every answer."""
        for attempt in (1, 2):
            try:
                conn = self._conn
                if conn is None:
                    conn = self._conn = _Connection(self.address)
                user_agent = self.user_agent.encode("latin-1")
                data = _request(method, path, conn.host_header, user_agent, headers, body)
                if then_next:
                    data += self._next_bytes(conn)
                conn.sock.sendall(data)
                self._next_sent = then_next
                response, answer = conn.receive(method)
            except _RETRYABLE:
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            return response, answer
        raise AssertionError("unreachable")

    def _next_bytes(self, conn: _Connection) -> bytes:
        if self._next_request is None:
            self._next_request = _request(
                "GET", NEXT_PATH, conn.host_header, self.user_agent.encode("latin-1"), [], None
            )
        return self._next_request

    def _next(self) -> tuple[_Response, bytes]:
        conn = self._conn
        if self._next_sent and conn is not None:
            self._next_sent = False
            try:
                response, body = conn.receive("GET")
            except _RETRYABLE:
                self.close()
            else:
                if response.will_close:
                    self.close()
                return response, body
        return self._call("GET", NEXT_PATH, [])

    def wait_next_invocation(self) -> InvocationRequest:
        response, body = self._next()
        if response.status != 200:
            _log_runtime_error(f"Failed to get next invocation. Http Response code: {response.status}")
            self._exit()
        return InvocationRequest(body, response.header_map)

    def _exit(self) -> NoReturn:
        self.close()
        sys.exit(1)

    def post_invocation_result(
        self,
        invoke_id: str,
        result_data: bytes | str,
        content_type: str = "application/json",
        invocation_id: str | None = None,
    ) -> None:
        body = result_data if isinstance(result_data, bytes) else result_data.encode("utf-8")
        headers: list[tuple[str, str | bytes]] = [("Content-Type", content_type)]
        if invocation_id is not None:
            headers.append((INVOCATION_ID_HEADER, invocation_id.encode()))
        path = INVOCATION_PATH + invoke_id + "/response"
        response, data = self._call("POST", path, headers, body, then_next=True)
        if not 200 <= response.status < 300:
            self._post_failed(response.status, data, "Failed to post invocation response")

    def post_invocation_error(
        self,
        invoke_id: str,
        error_response_data: str,
        xray_fault: str,
        error_type: str,
        invocation_id: str | None = None,
    ) -> None:
        headers: list[tuple[str, str | bytes]] = [
            ("Content-Type", "application/json"),
            (ERROR_TYPE_HEADER, error_type.encode()),
        ]
        cause = xray_fault.encode()
        if cause and len(cause) < _MAX_XRAY_CAUSE_BYTES:
            headers.append((XRAY_ERROR_CAUSE_HEADER, cause))
        if invocation_id is not None:
            headers.append((INVOCATION_ID_HEADER, invocation_id.encode()))
        body = error_response_data.encode("utf-8")
        path = INVOCATION_PATH + invoke_id + "/error"
        response, data = self._call("POST", path, headers, body, then_next=True)
        if not 200 <= response.status < 300:
            self._post_failed(response.status, data, "Failed to post invocation error")

    def post_init_error(self, error_response_data: str, error_type: str, path: str = INIT_ERROR_PATH) -> None:
        headers: list[tuple[str, str | bytes]] = [(ERROR_TYPE_HEADER, error_type.encode())]
        response, data = self._call("POST", path, headers, error_response_data.encode("utf-8"))
        if response.status != 202:
            raise RuntimeError(
                f"Request to Lambda Runtime '{path}' endpoint failed. "
                f"Reason: '{response.status}'. Response body: '{data!r}'"
            )

    def post_restore_error(self, error_response_data: str, error_type: str) -> None:
        """SnapStart: an after-restore hook failed."""
        self.post_init_error(error_response_data, error_type, RESTORE_ERROR_PATH)

    def restore_next(self) -> None:
        """SnapStart: Init and the before-snapshot hooks are done; the snapshot may be taken."""
        response, _ = self._call("GET", RESTORE_NEXT_PATH, [])
        if response.status != 200:
            _log_runtime_error(f"Failed to get restore/next. Http Response code: {response.status}")
            self._exit()

    @staticmethod
    def _post_failed(status: int, data: bytes, message: str) -> NoReturn:
        _log_runtime_error(
            "Failed to post handler success response. "
            f"Http response code: {status}. {data.decode('utf-8', 'replace')}"
        )
        raise RuntimeError(message)
