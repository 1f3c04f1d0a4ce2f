"""`lambdabox deploy | invoke | logs | ls | rm`: thin commands over the Lambda and CloudWatch Logs APIs.

Each command parses its arguments, calls the platform with boto3 and prints the answer. boto3 and rich are
imported inside the commands so that `lambdabox --help` stays fast.
"""

from __future__ import annotations

import base64
import io
import os
import re
import stat
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
SKIPPED_DIRECTORIES = frozenset({"__pycache__", ".git"})
FOLLOW_INTERVAL = 0.5
FOLLOW_LOOKBACK_MS = 10_000  # events can be stored a little after their timestamp: look back, then dedupe
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# -- plumbing ----------------------------------------------------------------------------------------------
def _env() -> Mapping[str, str]:
    context = click.get_current_context(silent=True)
    obj = context.find_root().obj if context is not None else None
    if isinstance(obj, dict) and isinstance(obj.get("env"), dict):
        return obj["env"]  # type: ignore[no-any-return]
    return os.environ


def _endpoint() -> str:
    env = _env()
    return env.get("LAMBDABOX_ENDPOINT") or env.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _credentials(env: Mapping[str, str]) -> tuple[str, str, str | None]:
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return key, secret, env.get("AWS_SESSION_TOKEN") or None
    from lambdabox.config import load_settings
    from lambdabox.credentials import read_stored

    settings = load_settings(env)
    if settings.root_access_key_id and settings.root_secret_access_key:
        return settings.root_access_key_id, settings.root_secret_access_key, None
    stored = read_stored(settings.data_dir)
    if stored is None:
        fail(
            "no credentials: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            '(eval "$(lambdabox credentials)"), or start the platform once with `lambdabox up`.'
        )
    return stored.access_key_id, stored.secret_access_key, None


def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    env = _env()
    key, secret, token = _credentials(env)
    session = boto3.session.Session(
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
    )
    config = Config(
        retries={"total_max_attempts": 1},  # never invoke twice behind the user's back
        connect_timeout=5,
        read_timeout=960,  # a synchronous invoke may take the function's 900 s timeout
    )
    return session.client(service, endpoint_url=_endpoint(), config=config)


@contextmanager
def api_errors() -> Iterator[None]:
    """API and connection failures become one clear line on stderr and exit code 1."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, WaiterError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        fail(f"{error.get('Code', 'Error')}: {error.get('Message') or exc}")
    except EndpointConnectionError:
        fail(f"cannot reach Lambdabox at {_endpoint()}: is `lambdabox up` running?")
    except WaiterError as exc:
        reason = (exc.last_response or {}).get("Configuration", {}).get("StateReason")
        fail(reason or str(exc))
    except BotoCoreError as exc:
        fail(str(exc))


def _lines(text: str) -> str:
    """Multi-line records carry \r between their lines (as AWS's Python runtime writes them)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


# -- deploy ------------------------------------------------------------------------------------------------
def zip_directory(root: Path) -> bytes:
    """A deterministic zip of `root`: sorted entries, fixed dates, Unix modes kept (a `bootstrap` stays
    executable), without `__pycache__` and `.git`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, directories, files in os.walk(root):
            directories[:] = sorted(d for d in directories if d not in SKIPPED_DIRECTORIES)
            for file_name in sorted(files):
                path = Path(folder) / file_name
                if not path.is_file():
                    continue  # a dangling link, a socket...
                info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (stat.S_IFREG | stat.S_IMODE(path.stat().st_mode)) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


class _ProgressBody:
    """A request body that reports how much of it the HTTP connection has read."""

    def __init__(self, data: bytes, report: Callable[[int], None]) -> None:
        self._stream = io.BytesIO(data)
        self._report = report
        self._size = len(data)

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(min(size, 256 * 1024) if size and size > 0 else 256 * 1024)
        self._report(self._stream.tell())
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()


def _uploading(lambda_client: Any, operation: str, label: str, call: Callable[[], Any]) -> Any:
    """Run `call` (one Lambda API request carrying the zip) with a progress bar of the bytes sent."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    console = Console(stderr=True)
    event = f"before-send.lambda.{operation}"
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=None)

        def wrap(request: Any, **_: Any) -> None:
            body = request.body
            if isinstance(body, (bytes, bytearray)) and body:
                total = len(body)
                progress.update(task, total=total, completed=0)

                def report(sent: int) -> None:
                    done = f"{label} (sent, waiting for the platform)" if sent >= total else label
                    progress.update(task, completed=sent, description=done)

                request.body = _ProgressBody(bytes(body), report)

        lambda_client.meta.events.register(event, wrap)
        try:
            return call()
        finally:
            lambda_client.meta.events.unregister(event, wrap)


def _environment(pairs: tuple[str, ...]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--env")
        variables[key] = value
    return variables


def _exists(lambda_client: Any, name: str) -> bool:
    try:
        lambda_client.get_function_configuration(FunctionName=name)
    except lambda_client.exceptions.ResourceNotFoundException:
        return False
    return True


DEFAULT_ROLE = "lambdabox-default"
_LAMBDA_TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
)
_BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _default_role() -> str:
    """The execution role of functions deployed without `--role`: created on first use, trusted by
    Lambda, allowed to write its logs only (AWSLambdaBasicExecutionRole), like the console's default."""
    iam = client("iam")
    try:
        arn: str = iam.get_role(RoleName=DEFAULT_ROLE)["Role"]["Arn"]
        return arn
    except iam.exceptions.NoSuchEntityException:
        pass
    try:
        arn = iam.create_role(
            RoleName=DEFAULT_ROLE,
            AssumeRolePolicyDocument=_LAMBDA_TRUST,
            Description="Execution role of functions deployed by `lambdabox deploy` without --role",
        )["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=DEFAULT_ROLE)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=DEFAULT_ROLE, PolicyArn=_BASIC_EXECUTION)
    return arn


def _size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB"):
        if amount < 1024 or unit == "MiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"  # pragma: no cover


@click.command()
@click.argument("directory", type=click.Path(exists=True, path_type=Path))
@click.option("--name", "-n", required=True, help="Function name.")
@click.option("--runtime", default=None, help="Runtime (default python3.12 for a new function).")
@click.option("--handler", default=None, help="Handler (default app.handler for a new function).")
@click.option("--memory", type=click.IntRange(128, 10240), default=None, help="Memory in MB.")
@click.option("--timeout", type=click.IntRange(1, 900), default=None, help="Timeout in seconds.")
@click.option(
    "--env", "env_pairs", multiple=True, metavar="KEY=VALUE", help="Environment variable (repeatable)."
)
@click.option("--role", default=None, help="Execution role ARN.")
@click.option("--description", default=None, help="Description.")
def deploy(
    directory: Path,
    name: str,
    runtime: str | None,
    handler: str | None,
    memory: int | None,
    timeout: int | None,
    env_pairs: tuple[str, ...],
    role: str | None,
    description: str | None,
) -> None:
    """Zip DIRECTORY and create the function NAME, or update its code and configuration."""
    if directory.is_file():
        if not zipfile.is_zipfile(directory):
            raise click.BadParameter("must be a directory or a .zip file", param_hint="DIRECTORY")
        package = directory.read_bytes()
    else:
        package = zip_directory(directory)
        if len(package) <= 22:  # an empty archive
            fail(f"{directory} has no files to deploy")
    changes: dict[str, Any] = {}
    for key, value in (
        ("Runtime", runtime),
        ("Handler", handler),
        ("MemorySize", memory),
        ("Timeout", timeout),
        ("Role", role),
        ("Description", description),
    ):
        if value is not None:
            changes[key] = value
    if env_pairs:
        changes["Environment"] = {"Variables": _environment(env_pairs)}
    waiting = {"WaiterConfig": {"Delay": 0.25, "MaxAttempts": 1200}}
    with api_errors():
        lam = client("lambda")
        created = False
        if not _exists(lam, name):
            config = {
                "Runtime": "python3.12",
                "Handler": "app.handler",
                **changes,
            }
            if "Role" not in config:
                config["Role"] = _default_role()
            try:
                _uploading(
                    lam,
                    "CreateFunction",
                    f"Creating {name}",
                    lambda: lam.create_function(FunctionName=name, Code={"ZipFile": package}, **config),
                )
                created = True
            except lam.exceptions.ResourceConflictException:
                pass  # created meanwhile: update it below
        if created:
            lam.get_waiter("function_active_v2").wait(FunctionName=name, **waiting)
        else:
            _uploading(
                lam,
                "UpdateFunctionCode",
                f"Updating {name}",
                lambda: lam.update_function_code(FunctionName=name, ZipFile=package),
            )
            lam.get_waiter("function_updated_v2").wait(FunctionName=name, **waiting)
            if changes:
                lam.update_function_configuration(FunctionName=name, **changes)
                lam.get_waiter("function_updated_v2").wait(FunctionName=name, **waiting)
        final = lam.get_function_configuration(FunctionName=name)
    click.echo(
        f"{'Created' if created else 'Updated'} {final['FunctionName']} ({final['Version']}): "
        f"{final.get('Runtime') or final.get('PackageType', '')}, {_size(final['CodeSize'])}, "
        f"sha256 {final['CodeSha256']}"
    )


# -- invoke ------------------------------------------------------------------------------------------------
def _payload(text: str | None) -> bytes | None:
    if text is None:
        return None
    if text == "@-":
        return sys.stdin.buffer.read()
    if text.startswith("@"):
        try:
            return Path(text[1:]).expanduser().read_bytes()
        except OSError as exc:
            raise click.BadParameter(
                f"cannot read {text[1:]}: {exc.strerror}", param_hint="--payload"
            ) from None
    return text.encode()


@click.command()
@click.argument("name")
@click.option("--payload", "-p", default=None, help="The event: JSON text, @file, or @- for stdin.")
@click.option("--qualifier", "-q", default=None, help="Version or alias.")
@click.option("--async", "asynchronous", is_flag=True, help="Queue the event (InvocationType Event).")
def invoke(name: str, payload: str | None, qualifier: str | None, asynchronous: bool) -> None:
    """Invoke the function NAME: the result on stdout, its log tail on stderr."""
    arguments: dict[str, Any] = {"FunctionName": name}
    data = _payload(payload)
    if data is not None:
        arguments["Payload"] = data
    if qualifier:
        arguments["Qualifier"] = qualifier
    with api_errors():
        lam = client("lambda")
        if asynchronous:
            response = lam.invoke(InvocationType="Event", **arguments)
            click.echo(response["ResponseMetadata"]["RequestId"])
            return
        response = lam.invoke(InvocationType="RequestResponse", LogType="Tail", **arguments)
        result = response["Payload"].read()
    if response.get("LogResult"):
        tail = _lines(base64.b64decode(response["LogResult"]).decode("utf-8", "replace"))
        sys.stderr.write(tail)
        sys.stderr.flush()
    sys.stdout.buffer.write(result + b"\n")
    sys.stdout.flush()
    if response.get("FunctionError"):
        sys.exit(1)


# -- logs --------------------------------------------------------------------------------------------------
def parse_duration(text: str) -> float:
    """`90`, `30s`, `10m`, `2h`, `1d`, `1w` → seconds."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise click.BadParameter(f"expected a duration like 30s, 10m, 2h or 1d, got {text!r}")
    return float(match[1]) * _UNIT_SECONDS[match[2] or "s"]


@click.command()
@click.argument("name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until Ctrl-C.")
@click.option("--since", default=None, help="Only events newer than this (30s, 10m, 2h, 1d).")
def logs(name: str, follow: bool, since: str | None) -> None:
    """Print the log events of the function NAME, oldest first."""
    from botocore.exceptions import ClientError

    group = f"/aws/lambda/{name}"
    start = int((time.time() - parse_duration(since)) * 1000) if since else None
    seen: dict[str, int] = {}  # eventId -> timestamp, within the look-back window
    newest: int | None = None
    announced = False
    try:
        with api_errors():
            cloudwatch = client("logs")
            while True:
                since_ms = start if newest is None else max(start or 0, newest - FOLLOW_LOOKBACK_MS)
                request: dict[str, Any] = {"logGroupName": group}
                if since_ms is not None:
                    request["startTime"] = since_ms
                try:
                    while True:
                        page = cloudwatch.filter_log_events(**request)
                        for event in page["events"]:
                            if event["eventId"] in seen:
                                continue
                            seen[event["eventId"]] = event["timestamp"]
                            newest = max(newest or 0, event["timestamp"])
                            sys.stdout.write(_lines(event["message"]))
                        if not page.get("nextToken"):
                            break
                        request["nextToken"] = page["nextToken"]
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                        raise
                    if not announced:
                        click.echo(f"No logs yet: the log group {group} does not exist.", err=True)
                        announced = True
                sys.stdout.flush()
                if not follow:
                    return
                if newest is not None:
                    horizon = newest - FOLLOW_LOOKBACK_MS
                    seen = {k: v for k, v in seen.items() if v >= horizon}
                time.sleep(FOLLOW_INTERVAL)
    except KeyboardInterrupt:
        sys.stdout.flush()


# -- ls / rm -----------------------------------------------------------------------------------------------
@click.command(name="ls")
def list_functions() -> None:
    """List the functions."""
    from rich.console import Console
    from rich.table import Table

    with api_errors():
        lam = client("lambda")
        functions = [f for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]
    if not functions:
        click.echo("No functions.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for title, justify in (
        ("NAME", "left"),
        ("RUNTIME", "left"),
        ("MEMORY", "right"),
        ("TIMEOUT", "right"),
        ("LAST MODIFIED", "left"),
    ):
        table.add_column(title, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for function in sorted(functions, key=lambda f: f["FunctionName"]):
        modified = str(function.get("LastModified", ""))
        table.add_row(
            function["FunctionName"],
            function.get("Runtime") or function.get("PackageType", "-"),
            f"{function.get('MemorySize', 128)} MB",
            f"{function.get('Timeout', 3)} s",
            f"{modified[:10]} {modified[11:19]}".strip(),
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=1000)  # piped: never truncate
    console.print(table)


@click.command(name="rm")
@click.argument("name")
def remove_function(name: str) -> None:
    """Delete the function NAME."""
    with api_errors():
        client("lambda").delete_function(FunctionName=name)
    click.echo(f"Deleted {name}")


def register(group: click.Group) -> None:
    for command in (deploy, invoke, logs, list_functions, remove_function):
        group.add_command(command)
