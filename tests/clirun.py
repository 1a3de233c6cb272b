"""Run the ``c2c`` CLI in-process as ``analysis.cli.main`` would: (exit status, printed text)."""

from __future__ import annotations

import click
from click.testing import CliRunner

from analysis.cli import cli
from analysis.errors import C2CError


def run_cli(*args: object, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Invoke ``c2c ARGS``; the status is the command's return value or the error's exit code,
    the text is stdout + stderr plus the ``error: ...`` line ``main`` would print."""
    result = CliRunner().invoke(cli, [str(a) for a in args], standalone_mode=False, env=env)
    error = result.exception
    if error is None:
        return result.return_value or 0, result.output
    if isinstance(error, C2CError):
        return error.exit_code, result.output + f"error: {error}\n"
    if isinstance(error, click.ClickException):
        return 2, result.output + error.format_message()
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return 2, result.output + f"error: cannot use{where}: {error.strerror or error}\n"
    raise error
