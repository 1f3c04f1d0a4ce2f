"""Lambdabox's Python runtime: the process inside every Python execution environment.

It drives the Lambda Runtime API exactly as AWS's ``awslambdaric`` does (same error bodies,
log lines, context object and JSON encoding), using the standard library only.

Launch::

    python -S -u /path/to/bootstrap.py [module.handler]

Environment read: ``AWS_LAMBDA_RUNTIME_API`` (required, ``host:port``), ``_HANDLER`` (unless the
handler is given as argument), ``LAMBDA_TASK_ROOT`` (default: the working directory),
``LAMBDABOX_RUNTIME_SITE_PACKAGES`` (os.pathsep-separated site directories, e.g. boto3's),
``AWS_LAMBDA_LOG_FORMAT``, ``AWS_LAMBDA_LOG_LEVEL``, ``AWS_EXECUTION_ENV``,
``_LAMBDA_TELEMETRY_LOG_FD``, ``LAMBDA_DISABLE_PREVIEW_WARN``, ``AWS_REGION``, and per invocation
``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_LAMBDA_FUNCTION_VERSION``, ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``,
``AWS_LAMBDA_LOG_GROUP_NAME``, ``AWS_LAMBDA_LOG_STREAM_NAME``. It writes only ``_X_AMZN_TRACE_ID``.

A fork server can reuse the steps: put this folder on ``sys.path``, ``import bootstrap`` (imports
only; no side effects), then in the child call ``setup_sys_path()``, ``configure_runtime()``,
``init_handler(...)`` and ``run_loop(...)`` -- which is all ``main()`` does.
"""

from __future__ import annotations

import logging
import os
import socket
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    from . import (
        lambdabox_context,
        lambdabox_errors,
        lambdabox_logging,
        lambdabox_marshaller,
        lambdabox_runtime_client,
    )

    Handler = Callable[[Any, lambdabox_context.LambdaContext], Any]
else:
    import lambdabox_context
    import lambdabox_errors
    import lambdabox_logging
    import lambdabox_marshaller
    import lambdabox_runtime_client

FaultException = lambdabox_errors.FaultException
RuntimeClient = lambdabox_runtime_client.RuntimeClient

RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
_TRACE_ID_ENV = "_X_AMZN_TRACE_ID"


_REALPATHS: dict[str, str] = {}  # absolute sys.path entries resolved once by a fork server


def remember_realpaths() -> None:
    """In a fork server, once its sys.path is complete: resolve the entries (symlinks) now, not in every
    forked environment's ``setup_sys_path``."""
    _REALPATHS.update((entry, os.path.realpath(entry)) for entry in sys.path if os.path.isabs(entry))


def setup_sys_path(task_root: str | None = None) -> None:
    """``sys.path`` as on AWS: the task root, the layer directories under /opt, this folder, the
    standard library, then the platform's site directories. ``.pth`` files are honoured."""
    import site

    if task_root is None:
        task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    v = sys.version_info
    # Layers are at /opt; without a mount namespace the platform names their directory on the host.
    opt = os.environ.get("LAMBDABOX_OPT_DIR") or "/opt"
    layer_dirs = [f"{opt}/python/lib/python{v.major}.{v.minor}/site-packages", f"{opt}/python"]
    front = [task_root, *(d for d in layer_dirs if os.path.isdir(d)), RUNTIME_DIR]

    def key(entry: str) -> str:
        return _REALPATHS.get(entry) or os.path.realpath(entry or ".")

    front_keys = {key(entry) for entry in front}
    sys.path[:] = front + [entry for entry in sys.path if key(entry) not in front_keys]

    for site_dir in front[:-1]:
        site.addsitedir(site_dir)
    for site_dir in os.environ.get("LAMBDABOX_RUNTIME_SITE_PACKAGES", "").split(os.pathsep):
        # Already on sys.path in a fork of the zygote, which has processed its .pth files.
        if site_dir and site_dir not in sys.path and os.path.isdir(site_dir):
            site.addsitedir(site_dir)


class RuntimeConfig:
    """What the loop needs besides the client and the handler; built once per process."""

    __slots__ = ("log_error", "log_sink", "marshaller")

    def __init__(
        self,
        marshaller: lambdabox_marshaller.Marshaller,
        log_sink: lambdabox_logging.LogSink,
        log_error: lambdabox_logging.ErrorLogger,
    ) -> None:
        self.marshaller = marshaller
        self.log_sink = log_sink
        self.log_error = log_error


def configure_runtime() -> RuntimeConfig:
    """Unbuffered stdout/stderr, the log sink and the root-logger handler, the JSON marshaller."""
    logs = lambdabox_logging
    sys.stdout = logs.Unbuffered(sys.stdout)
    sys.stderr = logs.Unbuffered(sys.stderr)
    log_format = logs.log_format_from_str(os.environ.get("AWS_LAMBDA_LOG_FORMAT"))
    log_level = logs.log_level_from_env_var(os.environ.get("AWS_LAMBDA_LOG_LEVEL"))
    ensure_ascii = lambdabox_marshaller.ensure_ascii_for(os.environ.get("AWS_EXECUTION_ENV"))
    marshaller = lambdabox_marshaller.Marshaller(ensure_ascii)
    log_sink = logs.create_log_sink(log_format)
    logs.setup_logging(log_format, log_level, log_sink)
    return RuntimeConfig(marshaller, log_sink, logs.make_error_logger(log_format, marshaller.to_json))


REHEARSAL_HANDLER = "lambdabox_rehearsal.handler"  # a module of this folder, imported by `rehearse` only


def rehearse() -> None:
    """For a fork server's pre-forked process: run the start-up steps of `main` once (a Runtime API
    connection to a throwaway listener, `sys.path`, logging, a module of this folder as the handler), then
    put back everything they changed. What they touch of the memory shared with the fork server is then
    copied now, while the process waits to be given an environment, not during that environment's cold
    start (~240 page faults, ~1.2 ms here)."""
    saved_path, saved_streams = list(sys.path), (sys.stdout, sys.stderr)
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_converter = logging.Formatter.converter
    try:
        _rehearse_connection()
        setup_sys_path(RUNTIME_DIR)
        configure_runtime()
        load_handler(REHEARSAL_HANDLER)
    finally:
        sys.modules.pop(REHEARSAL_HANDLER.rpartition(".")[0], None)
        sys.path[:] = saved_path
        sys.stdout, sys.stderr = saved_streams
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.Formatter.converter = saved_converter


def _rehearse_connection() -> None:
    """Open and close a Runtime API client's connection to a listener of our own on the loopback."""
    try:
        listener = socket.socket()
    except OSError:
        return  # no sockets here: nothing to rehearse
    with listener:
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
        except OSError:
            return  # no loopback here: nothing to rehearse
        client = RuntimeClient(f"127.0.0.1:{listener.getsockname()[1]}")
        client.connect()  # (its errors are the first call's to see)
        client.close()


def load_handler(handler: str) -> Handler:
    """Import ``module.function`` (split at the last dot; ``/`` in the module part means ``.``)."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {e}") from None

    import importlib

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                f"Cannot use built-in module {modname} as a handler module",
            )
        m = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR, f"Unable to import module '{modname}': {e}"
        ) from None
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{modname}': {e}", trace
        ) from None

    try:
        request_handler: Handler = getattr(m, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'", None
        ) from None
    return request_handler


def init_handler(client: RuntimeClient, config: RuntimeConfig, handler: str) -> Handler:
    """Load the handler; on failure log it, report it to /init/error and exit with status 1."""
    errors = lambdabox_errors
    try:
        lambdabox_logging.log_preview_runtime_warning()
        return load_handler(handler)
    except FaultException as e:
        error_result = errors.make_error(e.msg, e.exception_type, e.trace)
    except Exception:
        error_result = errors.build_fault_result(sys.exc_info(), None)  # type: ignore[arg-type]

    logging.warning(lambdabox_logging.UNHANDLED_EXCEPTION_WARNING)
    config.log_error(error_result, config.log_sink)
    client.post_init_error(config.marshaller.to_json(error_result), error_result["errorType"])
    sys.exit(1)


def parse_json_header(header: str, name: str) -> Any:
    import json

    try:
        return json.loads(header)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR, f"Unable to parse {name} JSON: {e}", None
        ) from None


def create_lambda_context(
    client_context_json: str | None,
    cognito_identity_json: str | None,
    epoch_deadline_time_in_ms: int,
    invoke_id: str,
    invoked_function_arn: str | None,
    tenant_id: str | None,
) -> lambdabox_context.LambdaContext:
    client_context = None
    if client_context_json:
        client_context = parse_json_header(client_context_json, "Client Context")
    cognito_identity = None
    if cognito_identity_json:
        cognito_identity = parse_json_header(cognito_identity_json, "Cognito Identity")
    return lambdabox_context.LambdaContext(
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn,
        tenant_id,
    )


def handle_event_request(
    client: RuntimeClient,
    request_handler: Handler,
    request: lambdabox_runtime_client.InvocationRequest,
    config: RuntimeConfig,
) -> None:
    """Run one invocation and post its result or error. Exceptions are caught here, so their
    tracebacks start in this file, whose frames are then dropped as awslambdaric does."""
    invoke_id = request.invoke_id
    marshaller = config.marshaller
    try:
        lambda_context = create_lambda_context(
            request.client_context,
            request.cognito_identity,
            request.deadline_time_in_ms,
            invoke_id,
            request.invoked_function_arn,
            request.tenant_id,
        )
        event = marshaller.unmarshal_request(request.event_body, request.content_type)
        response = request_handler(event, lambda_context)
        result, result_content_type = marshaller.marshal_response(response)
    except FaultException as e:
        errors = lambdabox_errors
        xray_fault = errors.make_xray_fault("LambdaValidationError", e.msg, os.getcwd(), [])
        error_result = errors.make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception as e:
        errors = lambdabox_errors
        etype = type(e)
        tb_tuples = errors.drop_bootstrap_frames(errors.extract_traceback(e.__traceback__))
        xray_fault = errors.make_xray_fault(etype.__name__, str(e), os.getcwd(), tb_tuples)
        error_result = errors.make_error(str(e), etype.__name__, errors.format_frames(tb_tuples), invoke_id)
    else:
        client.post_invocation_result(invoke_id, result, result_content_type, request.invocation_id)
        return

    config.log_error(error_result, config.log_sink)
    to_json = marshaller.to_json
    client.post_invocation_error(
        invoke_id,
        to_json(error_result),
        to_json(xray_fault),
        error_result["errorType"],
        request.invocation_id,
    )


def run_loop(client: RuntimeClient, request_handler: Handler, config: RuntimeConfig) -> NoReturn:
    """Serve invocations forever: GET next, run the handler, POST the outcome."""
    wait_next_invocation = client.wait_next_invocation
    set_request = lambdabox_logging.set_request
    environ = os.environ
    trace_id_now = lambdabox_context.environ_reader(_TRACE_ID_ENV)
    while True:
        request = wait_next_invocation()
        set_request(request.invoke_id, request.tenant_id)
        trace_id = request.x_amzn_trace_id
        if trace_id is not None:
            environ[_TRACE_ID_ENV] = trace_id
        elif trace_id_now()[0] is not None:
            del environ[_TRACE_ID_ENV]
        handle_event_request(client, request_handler, request, config)


def main() -> NoReturn:
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("bootstrap: AWS_LAMBDA_RUNTIME_API is not set\n")
        sys.exit(1)
    handler = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("_HANDLER", "")
    client = RuntimeClient(address)
    client.connect()  # accepted by the platform while the steps below run
    setup_sys_path()
    config = configure_runtime()
    request_handler = init_handler(client, config, handler)
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        import lambdabox_snapstart  # type: ignore[import-not-found]

        def report(client: RuntimeClient, error_type: str, after_restore: bool) -> None:
            error_result = lambdabox_errors.build_fault_result(sys.exc_info(), None)  # type: ignore[arg-type]
            config.log_error(error_result, config.log_sink)
            body = config.marshaller.to_json(error_result)
            if after_restore:
                client.post_restore_error(body, error_type)
            else:
                client.post_init_error(body, error_type)

        client = lambdabox_snapstart.snapshot(client, report)  # returns in each restored environment
    run_loop(client, request_handler, config)


if __name__ == "__main__":
    main()
