"""`lambdabox` entry point. Each command imports what it needs lazily so the CLI starts fast."""

from __future__ import annotations

import os

import click

from lambdabox.cli import doctor, server_commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lambdabox")
def cli() -> None:
    """Lambdabox: a self-hosted serverless platform that behaves like AWS Lambda."""


server_commands.register(cli)
doctor.register(cli)

try:  # the function commands (deploy, invoke, logs, ls, rm) live in their own module
    from lambdabox.cli import function_commands
except ImportError:  # pragma: no cover - during development only
    function_commands = None  # type: ignore[assignment]
else:
    function_commands.register(cli)


def main() -> None:
    cli(prog_name="lambdabox", auto_envvar_prefix=None, obj={"env": dict(os.environ)})
