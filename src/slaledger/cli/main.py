"""The ``slaledger`` command. User mistakes print one line each and exit 2, no traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click

from slaledger import __version__
from slaledger.errors import UserError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USER_ERROR = 2


def reports_user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`UserError` into ``error: …`` lines on stderr and exit code 2."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except UserError as error:
            for problem in error.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(EXIT_USER_ERROR)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slaledger")
def cli() -> None:
    """Service-level agreements as code: check contracts, settle months, prove the figures."""


def _register() -> None:
    from slaledger.cli import check, demo, report

    for module in (check, report, demo):
        cli.add_command(module.command)


_register()


def main() -> None:
    cli(prog_name="slaledger")
