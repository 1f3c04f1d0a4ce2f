"""`lambdabox up`, `lambdabox credentials` (and `--rotate`) and `lambdabox rotate-master-key`."""

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
    from lambdabox.storage.sealing import MasterKeyError

    try:
        serve(load_settings(os.environ, host=host, port=port, data_dir=data_dir))
    except MasterKeyError as exc:
        click.echo(f"lambdabox: {exc}", err=True)
        sys.exit(1)


@click.command()
@click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None, help="The server's data directory."
)
@click.option(
    "--rotate",
    is_flag=True,
    help="Replace the stored root keys with new ones (the server uses them on restart).",
)
def credentials(data_dir: str | None, rotate: bool) -> None:
    """Print `export` lines for the AWS CLI and SDKs: endpoint, root keys, region."""
    from lambdabox.config import load_settings
    from lambdabox.credentials import read_stored
    from lambdabox.credentials import rotate as rotate_root

    settings = load_settings(os.environ, data_dir=data_dir)
    key, secret = settings.root_access_key_id, settings.root_secret_access_key
    if rotate:
        if key and secret:
            click.echo(
                "The root credentials come from LAMBDABOX_ROOT_ACCESS_KEY_ID / LAMBDABOX_ROOT_SECRET_ACCESS_KEY: "
                "change those and restart the server.",
                err=True,
            )
            sys.exit(1)
        rotated = rotate_root(settings.data_dir)
        key, secret = rotated.access_key_id, rotated.secret_access_key
        click.echo("New root credentials written; restart the server to use them.", err=True)
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


@click.command("rotate-master-key")
@click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None, help="The server's data directory."
)
def rotate_master_key(data_dir: str | None) -> None:
    """Re-seal every secret under a new master key (stop the server first).

    With a key file, the file is replaced. With LAMBDABOX_MASTER_KEY, the new key is
    LAMBDABOX_NEW_MASTER_KEY if set, else a generated one printed on stdout: start the server with it.
    """
    import sqlite3

    from lambdabox.config import load_settings
    from lambdabox.storage import iam_sqlite, kms_sqlite, sealing
    from lambdabox.storage.sqlite import Database

    settings = load_settings(os.environ, data_dir=data_dir)
    path = settings.data_dir / "lambdabox.db"
    if not path.exists():
        click.echo(f"No data in {settings.data_dir}: nothing to rotate.", err=True)
        sys.exit(1)
    new_text = os.environ.get("LAMBDABOX_NEW_MASTER_KEY")
    db = Database(path)
    try:
        db.execute("PRAGMA busy_timeout=200")
        db.execute("PRAGMA locking_mode=EXCLUSIVE")  # held until closed: a running server cannot interleave
        old = sealing.load(db, settings.data_dir, settings.master_key, settings.master_key_file)
        new = sealing.MasterKey.from_text(new_text, "LAMBDABOX_NEW_MASTER_KEY") if new_text else None
        new = new or sealing.MasterKey.generate()
        kms_sqlite.SqliteKmsStore(db, old)  # seal any plaintext left from before sealing existed
        iam_sqlite.SqliteIamStore(db, old)
        columns = kms_sqlite.SEALED + iam_sqlite.SEALED
        if settings.master_key:
            count = sealing.rotate(db, old, new, columns)
        else:
            key_path = sealing.key_file(settings.data_dir, settings.master_key_file)
            pending = sealing.pending_file(key_path)
            sealing.write_key_file(pending, new)
            try:
                count = sealing.rotate(db, old, new, columns)
            except BaseException:
                pending.unlink()
                raise
            os.replace(pending, key_path)
        sealing.scrub(db)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        click.echo(f"The data dir {settings.data_dir} is in use: stop the server first.", err=True)
        sys.exit(1)
    except sealing.MasterKeyError as exc:
        click.echo(f"lambdabox: {exc}", err=True)
        sys.exit(1)
    finally:
        db.close()
    click.echo(f"Re-sealed {count} secrets under master key {new.key_id}.", err=True)
    if settings.master_key and not new_text:
        click.echo(
            "Start the server with this LAMBDABOX_MASTER_KEY (the old one no longer opens the data):",
            err=True,
        )
        click.echo(new.text())


def register(group: click.Group) -> None:
    group.add_command(up)
    group.add_command(credentials)
    group.add_command(rotate_master_key)
