"""Log sinks, the root-logger handler and uncaught-error lines, as awslambdaric writes them.

Text format: ``[LEVEL]\\t<UTC time>.<ms>Z\\t<request id>\\t<message>\\n``; an uncaught error is one
record whose lines are joined with ``\\r`` on stdout (the platform keeps it as one log event) and
whose traceback indentation uses NO-BREAK SPACEs. JSON format (``AWS_LAMBDA_LOG_FORMAT=JSON``):
one JSON document per record. With ``_LAMBDA_TELEMETRY_LOG_FD`` set, records are written as
binary frames to that descriptor instead of stdout.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, BinaryIO, Protocol, TextIO

    class LogSink(Protocol):
        def log(self, msg: str, frame_type: bytes | None = None) -> None: ...
        def log_error(self, message_lines: list[str]) -> None: ...

    ErrorLogger = Callable[[dict[str, Any], LogSink], None]

ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"  # NO-BREAK SPACE U+00A0

LOG_FORMAT_JSON = 0
LOG_FORMAT_TEXT = 1

_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TEXT_LINE_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_RESERVED_FIELDS = frozenset(
    {
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "aws_request_id",
        "tenant_id",
        "_frame_type",
    }
)

_JSON_FRAME_TYPES = {
    logging.NOTSET: 0xA55A0002.to_bytes(4, "big"),
    logging.DEBUG: 0xA55A000A.to_bytes(4, "big"),
    logging.INFO: 0xA55A000E.to_bytes(4, "big"),
    logging.WARNING: 0xA55A0012.to_bytes(4, "big"),
    logging.ERROR: 0xA55A0016.to_bytes(4, "big"),
    logging.CRITICAL: 0xA55A001A.to_bytes(4, "big"),
}
_TEXT_FRAME_TYPES = {
    logging.NOTSET: 0xA55A0003.to_bytes(4, "big"),
    logging.DEBUG: 0xA55A000B.to_bytes(4, "big"),
    logging.INFO: 0xA55A000F.to_bytes(4, "big"),
    logging.WARNING: 0xA55A0013.to_bytes(4, "big"),
    logging.ERROR: 0xA55A0017.to_bytes(4, "big"),
    logging.CRITICAL: 0xA55A001B.to_bytes(4, "big"),
}
_DEFAULT_FRAME_TYPE = _TEXT_FRAME_TYPES[logging.NOTSET]

LAMBDA_WARNING = "LAMBDA_WARNING"
UNHANDLED_EXCEPTION_WARNING = (
    f"{LAMBDA_WARNING}: "
    "Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this "
    "error by temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
PREVIEW_RUNTIME_ENVS = frozenset({"AWS_Lambda_python3.15"})

# The invocation being served, stamped on every log record by LambdaLoggerFilter.
_request_id: str | None = None
_tenant_id: str | None = None


def set_request(request_id: str | None, tenant_id: str | None) -> None:
    global _request_id, _tenant_id
    _request_id = request_id
    _tenant_id = tenant_id


def log_format_from_str(value: str | None) -> int:
    return LOG_FORMAT_JSON if value and value.upper() == "JSON" else LOG_FORMAT_TEXT


def log_level_from_env_var(log_level: str | None) -> str:
    """``AWS_LAMBDA_LOG_LEVEL`` as a logging level name ('' when unset; TRACE means DEBUG)."""
    return {None: "", "TRACE": "DEBUG"}.get(log_level, log_level).upper()  # type: ignore[union-attr]


def _format_log_level(record: logging.LogRecord) -> int:
    return min(50, max(0, record.levelno)) // 10 * 10


class Unbuffered:
    """Stream wrapper that flushes after every write (awslambdaric wraps stdout and stderr)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __enter__(self) -> Unbuffered:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.stream, attr)

    def write(self, msg: str) -> None:
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs: Iterable[str]) -> None:
        self.stream.writelines(msgs)
        self.stream.flush()


class StandardLogSink:
    """Writes to stdout; a multi-line error record becomes one line-set joined by ``\\r``."""

    def __enter__(self) -> StandardLogSink:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        sys.stdout.write(msg)

    def log_error(self, message_lines: list[str]) -> None:
        sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(message_lines) + "\n")


class FramedTelemetryLogSink:
    """Frames ``type(4) | length(4) | timestamp µs(8) | message`` (big-endian) on a descriptor."""

    def __init__(self, fd: str | int, error_frame_type: bytes = _TEXT_FRAME_TYPES[logging.ERROR]) -> None:
        self.fd = int(fd)
        self.error_frame_type = error_frame_type
        self.file: BinaryIO | None = None

    def __enter__(self) -> FramedTelemetryLogSink:
        self.file = os.fdopen(self.fd, "wb", 0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        encoded_msg = msg.encode("utf8")
        timestamp = int(time.time_ns() / 1000)
        assert self.file is not None, "sink used before __enter__"
        self.file.write(
            (frame_type or _DEFAULT_FRAME_TYPE)
            + len(encoded_msg).to_bytes(4, "big")
            + timestamp.to_bytes(8, "big")
            + encoded_msg
        )

    def log_error(self, message_lines: list[str]) -> None:
        self.log("\n".join(message_lines), frame_type=self.error_frame_type)


def create_log_sink(log_format: int) -> LogSink:
    """The telemetry sink when the platform passes ``_LAMBDA_TELEMETRY_LOG_FD`` (removed from the
    environment, as AWS does), else stdout. The returned sink is already entered."""
    if "_LAMBDA_TELEMETRY_LOG_FD" in os.environ:
        fd = os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD")
        frame_types = _JSON_FRAME_TYPES if log_format == LOG_FORMAT_JSON else _TEXT_FRAME_TYPES
        return FramedTelemetryLogSink(fd, frame_types[logging.ERROR]).__enter__()
    return StandardLogSink()


class LambdaLoggerHandler(logging.Handler):
    def __init__(self, log_sink: LogSink) -> None:
        logging.Handler.__init__(self)
        self.log_sink = log_sink

    def emit(self, record: logging.LogRecord) -> None:
        self.log_sink.log(self.format(record))


class LambdaLoggerHandlerWithFrameType(logging.Handler):
    def __init__(self, log_sink: LogSink) -> None:
        super().__init__()
        self.log_sink = log_sink

    def emit(self, record: logging.LogRecord) -> None:
        self.log_sink.log(
            self.format(record),
            frame_type=(
                getattr(record, "_frame_type", None) or _TEXT_FRAME_TYPES.get(_format_log_level(record))
            ),
        )


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id or ""
        record.tenant_id = _tenant_id
        return True


# Non-serialisable values in dict messages or ``extra`` fields are stringified, not fatal.
_encode_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(datefmt=_DATETIME_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = _format_log_level(record)
        record.levelname = logging.getLevelName(record.levelno)
        record._frame_type = _JSON_FRAME_TYPES.get(record.levelno, _JSON_FRAME_TYPES[logging.NOTSET])

        exc_info = record.exc_info
        result: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": (
                record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage()
            ),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc_info[2]) if exc_info else None,
            # unguarded like awslambdaric: exc_info=(None, None, None) fails and logging reports it
            "errorType": exc_info[0].__name__ if exc_info else None,  # type: ignore[union-attr]
            "errorMessage": str(exc_info[1]) if exc_info else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc_info else None,
        }
        tenant_id = getattr(record, "tenant_id", None)
        if tenant_id is not None:
            result["tenantId"] = tenant_id
        result.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _RESERVED_FIELDS and key not in result
        )
        return _encode_json({k: v for k, v in result.items() if v is not None}) + "\n"


def setup_logging(log_format: int, log_level: str, log_sink: LogSink) -> None:
    """Install the Lambda handler on the root logger (so ``logging.basicConfig`` becomes a no-op)."""
    logging.Formatter.converter = time.gmtime
    logger = logging.getLogger()

    logger_handler: logging.Handler
    if log_format == LOG_FORMAT_JSON or log_level:
        logger_handler = LambdaLoggerHandlerWithFrameType(log_sink)
    else:
        logger_handler = LambdaLoggerHandler(log_sink)

    if log_format == LOG_FORMAT_JSON:
        logger_handler.setFormatter(JsonFormatter())
    else:
        logger_handler.setFormatter(logging.Formatter(_TEXT_LINE_FORMAT, _TEXT_DATE_FORMAT))

    if log_level in logging._nameToLevel:
        logger.setLevel(log_level)

    logger_handler.addFilter(LambdaLoggerFilter())
    logger.addHandler(logger_handler)


def log_preview_runtime_warning() -> None:
    """Warn when running as a preview runtime version (AWS_EXECUTION_ENV)."""
    if os.environ.get("LAMBDA_DISABLE_PREVIEW_WARN", ""):
        return
    if os.environ.get("AWS_EXECUTION_ENV", "") in PREVIEW_RUNTIME_ENVS:
        region = os.environ.get("AWS_REGION", "")
        domain = "docs.amazonaws.cn" if region.startswith("cn-") else "docs.aws.amazon.com"
        logging.warning(
            f"{LAMBDA_WARNING}: "
            "This is a preview runtime version and should not be used for production workloads. "
            "For further information and to provide feedback, see "
            f"https://{domain}/lambda/latest/dg/lambda-runtimes.html\r"
        )


def _replace_line_indentation(line: str, indent_char: str, new_indent_char: str) -> str:
    count = len(line) - len(line.lstrip(indent_char))
    return new_indent_char * count + line[count:]


def make_error_logger(log_format: int, to_json: Callable[[Any], str]) -> ErrorLogger:
    """The function that logs an error body (uncaught handler/init errors) in the given format."""
    if log_format == LOG_FORMAT_JSON:

        def log_error_json(error_result: dict[str, Any], log_sink: LogSink) -> None:
            timestamp = time.strftime(_DATETIME_FORMAT, logging.Formatter.converter(time.time()))
            log_sink.log_error([to_json({"timestamp": timestamp, "level": "ERROR", **error_result})])

        return log_error_json

    def log_error_text(error_result: dict[str, Any], log_sink: LogSink) -> None:
        error_description = "[ERROR]"
        error_type = error_result.get("errorType")
        if error_type:
            error_description += " " + error_type
        error_message = error_result.get("errorMessage")
        if error_message:
            if error_type:
                error_description += ":"
            error_description += " " + error_message

        lines = [error_description]
        stack_trace = error_result.get("stackTrace")
        if stack_trace is not None:
            lines.append("Traceback (most recent call last):")
            for trace_element in stack_trace:
                if trace_element == "":
                    lines.append("")
                else:
                    for trace_line in trace_element.splitlines():
                        lines.append(_replace_line_indentation(trace_line, " ", ERROR_LOG_IDENT))
        log_sink.log_error(lines)

    return log_error_text
