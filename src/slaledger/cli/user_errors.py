"""How commands report user mistakes: one ``error: …`` line each on stderr, exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click

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
