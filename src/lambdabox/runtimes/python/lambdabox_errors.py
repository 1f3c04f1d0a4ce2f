"""Error shapes of the runtime: FaultException, error bodies, X-Ray causes, filtered tracebacks.

Mirrors awslambdaric's ``lambda_runtime_exception.py`` and the error helpers of its
``bootstrap.py``; the bodies built here are what the Invoke caller finally sees.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

    ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
    FrameTuple = tuple[str, int | None, str, str | None]


class FaultException(Exception):
    """A runtime-detected failure with a Lambda error type (``Runtime.*``)."""

    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    BEFORE_SNAPSHOT_ERROR = "Runtime.BeforeSnapshotError"
    AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"
    LAMBDA_RUNTIME_CLIENT_ERROR = "Runtime.LambdaRuntimeClientError"

    # Like awslambdaric, Exception.__init__ is not called with the message: the exception's
    # args (and so its str()) stay (exception_type, msg, trace).
    def __init__(self, exception_type: str, msg: str, trace: list[str] | None = None) -> None:
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


def make_error(
    error_message: str | None,
    error_type: str | None,
    stack_trace: list[str] | None,
    invoke_id: str | None = None,
) -> dict[str, Any]:
    """The error body posted to /error and /init/error (key order matters: it is the wire form)."""
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def extract_traceback(tb: TracebackType | None) -> list[FrameTuple]:
    """(filename, lineno, name, line) tuples; plain tuples so formatting shows no carets."""
    import traceback

    return [(frame.filename, frame.lineno, frame.name, frame.line) for frame in traceback.extract_tb(tb)]


def drop_bootstrap_frames(tb_tuples: list[FrameTuple]) -> list[FrameTuple]:
    """Remove the leading frames of any ``bootstrap.py`` (kept all if nothing else is left)."""
    for i, frame in enumerate(tb_tuples):
        if "/bootstrap.py" not in frame[0]:
            return tb_tuples[i:]
    return tb_tuples


def format_frames(tb_tuples: list[FrameTuple]) -> list[str]:
    """The ``stackTrace`` strings: ``traceback.format_list`` of the frame tuples."""
    import traceback

    return traceback.format_list(tb_tuples)  # type: ignore[arg-type]  # lineno is never None here


def build_fault_result(exc_info: ExcInfo, msg: str | None) -> dict[str, Any]:
    """Error body for an unexpected exception (init failures, hooks)."""
    etype, value, tb = exc_info
    tb_tuples = drop_bootstrap_frames(extract_traceback(tb))
    return make_error(msg if msg else str(value), etype.__name__, format_frames(tb_tuples))


def make_xray_fault(
    ex_type: str, ex_msg: str, working_dir: str, tb_tuples: list[FrameTuple]
) -> dict[str, Any]:
    """The ``Lambda-Runtime-Function-XRay-Error-Cause`` document."""
    stack = []
    files = set()
    for tb_file, tb_line, tb_method, _tb_code in tb_tuples:
        stack.append({"label": tb_method, "path": tb_file, "line": tb_line})
        files.add(tb_file)
    formatted_ex = {"message": ex_msg, "type": ex_type, "stack": stack}
    return {"working_directory": working_dir, "exceptions": [formatted_ex], "paths": list(files)}
