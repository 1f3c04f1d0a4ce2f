"""`lambdabox up` and `lambdabox credentials`."""

from __future__ import annotations

import os
import shlex
import sys

import click


@click.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port for every AWS API (default 4566).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where functions, logs and queues are kept (default $LAMBDABOX_DATA_DIR or ~/.local/share/lambdabox).",
)
def up(host: str | None, port: int | None, data_dir: str | None) -> None:
    """Run the platform in the foreground (Ctrl-C stops it cleanly)."""
    from lambdabox.config import load_settings
    from lambdabox.server import serve

    serve(load_settings(os.environ, host=host, port=port, data_dir=data_dir))


@click.command()
@click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None, help="The server's data directory."
)
def credentials(data_dir: str | None) -> None:
    """Print `export` lines for the AWS CLI and SDKs: endpoint, root keys, region."""
    from lambdabox.config import load_settings
    from lambdabox.credentials import read_stored

    settings = load_settings(os.environ, data_dir=data_dir)
    key, secret = settings.root_access_key_id, settings.root_secret_access_key
    if not (key and secret):
        stored = read_stored(settings.data_dir)
        if stored is None:
            click.echo(
                f"No credentials yet in {settings.data_dir}: start the platform once with `lambdabox up`.",
                err=True,
            )
            sys.exit(1)
        key, secret = stored.access_key_id, stored.secret_access_key
    endpoint = os.environ.get("LAMBDABOX_ENDPOINT") or settings.endpoint_url
    for name, value in (
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", key),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_DEFAULT_REGION", settings.region),
        ("AWS_REGION", settings.region),
    ):
        click.echo(f"export {name}={shlex.quote(value)}")


def register(group: click.Group) -> None:
    group.add_command(up)
    group.add_command(credentials)
