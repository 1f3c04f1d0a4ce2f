"""HTTP client for the Lambda Runtime API (``/2018-06-01/runtime/...``).

One keep-alive connection with TCP_NODELAY is reused for every call (opened by ``connect()`` before
Init, so that its set-up overlaps Init instead of delaying the first GET next). A warm invocation costs one
write and one wake-up: the POST of a result carries the following GET next behind it (HTTP/1.1
pipelining), and the Runtime API answers both in one write once the next event is there. Answers are
parsed here, from one buffer per connection (no ``http.client``: importing it costs a process that does
not fork from a zygote several milliseconds, and its response objects cost every invocation more than
the rest of the client). No timeout: GET next long-polls while the environment may be frozen. A dropped
connection is re-opened and the call retried once. Non-2xx answers are fatal, as in awslambdaric: a line
on stdout, then the process exits (GET next) or a RuntimeError propagates (POST).
"""

from __future__ import annotations

import re
import socket
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

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
_MAX_HEAD = _MAX_LINE * 4  # a head longer than this without its blank line is refused
_RECV_SIZE = 256 * 1024

# A header value http.client would refuse to send: a line break not followed by folding whitespace.
_illegal_header_value = re.compile(rb"\n(?![ \t])|\r(?![ \t\n])").search


class ProtocolError(Exception):
    """The Runtime API's answer is not HTTP/1.x as expected."""


class ConnectionDropped(ProtocolError, ConnectionError):
    """The Runtime API closed the connection before answering."""


# A connection problem worth one reconnect-and-retry.
_RETRYABLE = (OSError, ProtocolError)


def default_user_agent() -> str:
    v = sys.version_info
    return f"aws-lambda-python/{v.major}.{v.minor}.{v.micro}-lambdabox"


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; port 80 when none) as ``http.client`` splits it."""
    host, port = address, 80
    colon, bracket = address.rfind(":"), address.rfind("]")
    if colon > bracket:
        text = address[colon + 1 :]
        if text:
            if not text.isdigit():
                raise ValueError(f"nonnumeric port: '{text}'")
            port = int(text)
        host = address[:colon]
    if host[:1] == "[" and host[-1:] == "]":
        host = host[1:-1]
    return host, port


class Answer:
    """One response of the Runtime API: its status, headers (lower-cased names, first value kept) and
    body, and whether the server closes the connection after it."""

    __slots__ = ("body", "headers", "status", "will_close")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, will_close: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.will_close = will_close


class _Connection:
    """One keep-alive connection to the Runtime API: requests are written whole (one ``sendall``),
    answers parsed from one buffer, so that an answer which arrived together with the previous one is
    not lost (requests may be pipelined)."""

    def __init__(self, address: str) -> None:
        host, port = split_address(address)
        self.host_header = f"{host}:{port}".encode("latin-1")
        # A bytes host spares getaddrinfo the idna codec import (~2 ms at start-up).
        self.sock = socket.create_connection((host.encode() if host.isascii() else host, port))  # type: ignore[arg-type]
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""  # received, not yet parsed

    def _more(self) -> None:
        data = self.sock.recv(_RECV_SIZE)
        if not data:
            raise ConnectionDropped("Remote end closed connection without response")
        self._buf = self._buf + data if self._buf else data

    def receive(self) -> Answer:
        while True:  # interim 1xx answers are skipped
            status, version, headers = self._head()
            if status >= 200:
                break
        chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        length_text = headers.get("content-length", "")
        length = int(length_text) if length_text.isdigit() and not chunked else None
        if status in (204, 304):
            length = 0
        if chunked:
            body = self._chunked()
        elif length is not None:
            body = self._take(length)
        else:
            body = self._rest()
        connection = headers.get("connection", "").lower()
        will_close = (
            "close" in connection
            or (version == 10 and "keep-alive" not in connection)
            or (not chunked and length is None)
        )
        return Answer(status, headers, body, will_close)

    def _head(self) -> tuple[int, int, dict[str, str]]:
        # The head ends at its first blank line; lines end in CRLF or a bare LF (so the blank line is
        # "\n\r\n" or "\n\n"), and a line's trailing "\r" goes with the whitespace stripped below.
        while True:
            buf = self._buf
            crlf = buf.find(b"\n\r\n")
            lf = buf.find(b"\n\n", 0, len(buf) if crlf < 0 else crlf)
            if lf >= 0:
                head, self._buf = buf[:lf], buf[lf + 2 :]
                break
            if crlf >= 0:
                head, self._buf = buf[:crlf], buf[crlf + 3 :]
                break
            if len(buf) > _MAX_HEAD:
                raise ProtocolError("header line too long")
            self._more()
        lines = head.split(b"\n")
        parts = lines[0].split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"bad status line: {str(lines[0], 'iso-8859-1')!r}")
        if len(lines) > _MAX_HEADERS + 1:
            raise ProtocolError(f"got more than {_MAX_HEADERS} headers")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if len(line) > _MAX_LINE:
                raise ProtocolError("header line too long")
            name, _, value = str(line, "iso-8859-1").partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        return int(parts[1]), 10 if parts[0] == b"HTTP/1.0" else 11, headers

    def _take(self, size: int) -> bytes:
        while len(self._buf) < size:
            self._more()
        data, self._buf = self._buf[:size], self._buf[size:]
        return data

    def _line(self) -> bytes:
        end = self._buf.find(b"\n")
        while end < 0:
            if len(self._buf) > _MAX_LINE:
                raise ProtocolError("chunk size line too long")
            self._more()
            end = self._buf.find(b"\n")
        line, self._buf = self._buf[:end], self._buf[end + 1 :]
        return line.rstrip(b"\r")

    def _chunked(self) -> bytes:
        pieces: list[bytes] = []
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size: {size_text!r}") from None
            if size == 0:
                while self._line():  # trailers, up to the blank line
                    pass
                return b"".join(pieces)
            pieces.append(self._take(size))
            self._line()  # the chunk's line end

    def _rest(self) -> bytes:
        """A body delimited by the end of the connection."""
        while True:
            data = self.sock.recv(_RECV_SIZE)
            if not data:
                body, self._buf = self._buf, b""
                return body
            self._buf += data

    def close(self) -> None:
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
        self._user_agent = self.user_agent.encode("latin-1")
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
    ) -> Answer:
        """One request and its answer. `then_next`: a GET next follows in the same write (HTTP/1.1
        pipelining), so the runtime is woken once, by the next event, instead of by every answer."""
        for attempt in (1, 2):
            try:
                conn = self._conn
                if conn is None:
                    conn = self._conn = _Connection(self.address)
                data = _request(method, path, conn.host_header, self._user_agent, headers, body)
                if then_next:
                    data += self._next_bytes(conn)
                conn.sock.sendall(data)
                self._next_sent = then_next
                answer = conn.receive()
            except _RETRYABLE:
                self.close()
                if attempt == 2:
                    raise
                continue
            if answer.will_close:
                self.close()
            return answer
        raise AssertionError("unreachable")

    def _next_bytes(self, conn: _Connection) -> bytes:
        if self._next_request is None:
            self._next_request = _request("GET", NEXT_PATH, conn.host_header, self._user_agent, [], None)
        return self._next_request

    def _next(self) -> Answer:
        conn = self._conn
        if self._next_sent and conn is not None:
            self._next_sent = False
            try:
                answer = conn.receive()
            except _RETRYABLE:
                self.close()
            else:
                if answer.will_close:
                    self.close()
                return answer
        return self._call("GET", NEXT_PATH, [])

    def wait_next_invocation(self) -> InvocationRequest:
        answer = self._next()
        if answer.status != 200:
            _log_runtime_error(f"Failed to get next invocation. Http Response code: {answer.status}")
            self._exit()
        return InvocationRequest(answer.body, answer.headers)

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
        answer = self._call("POST", path, headers, body, then_next=True)
        if not 200 <= answer.status < 300:
            self._post_failed(answer.status, answer.body, "Failed to post invocation response")

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
        answer = self._call("POST", path, headers, body, then_next=True)
        if not 200 <= answer.status < 300:
            self._post_failed(answer.status, answer.body, "Failed to post invocation error")

    def post_init_error(self, error_response_data: str, error_type: str, path: str = INIT_ERROR_PATH) -> None:
        headers: list[tuple[str, str | bytes]] = [(ERROR_TYPE_HEADER, error_type.encode())]
        answer = self._call("POST", path, headers, error_response_data.encode("utf-8"))
        if answer.status != 202:
            raise RuntimeError(
                f"Request to Lambda Runtime '{path}' endpoint failed. "
                f"Reason: '{answer.status}'. Response body: '{answer.body!r}'"
            )

    def post_restore_error(self, error_response_data: str, error_type: str) -> None:
        """SnapStart: an after-restore hook failed."""
        self.post_init_error(error_response_data, error_type, RESTORE_ERROR_PATH)

    def restore_next(self) -> None:
        """SnapStart: Init and the before-snapshot hooks are done; the snapshot may be taken."""
        answer = self._call("GET", RESTORE_NEXT_PATH, [])
        if answer.status != 200:
            _log_runtime_error(f"Failed to get restore/next. Http Response code: {answer.status}")
            self._exit()

    @staticmethod
    def _post_failed(status: int, data: bytes, message: str) -> NoReturn:
        _log_runtime_error(
            "Failed to post handler success response. "
            f"Http response code: {status}. {data.decode('utf-8', 'replace')}"
        )
        raise RuntimeError(message)
