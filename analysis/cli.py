"""The ``c2c`` command line: wires stages together, turns C2CError into one sentence + exit code."""

from __future__ import annotations

import sys

import click

from analysis.errors import C2CError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Segment the users of a C2C fashion marketplace and publish the findings."""


def main() -> None:
    """Console-script entry point: run the CLI, print C2CError as one line, exit with its code.

    Each command returns its exit status (int) or None (= 0)."""
    try:
        status = cli.main(standalone_mode=False)
    except C2CError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(2)
    # Commands return their exit status (0 ok, 1 data problem) or None for 0.
    sys.exit(status if isinstance(status, int) else 0)
