"""The package's one exception tree.

Every error a user can cause derives from :class:`UserError`; the CLI prints each of its
``problems`` as one line and exits with code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SlaledgerError(Exception):
    """Base of every exception slaledger raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One mistake in the user's input: where it is and what was expected."""

    message: str
    source: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source if self.line is None else f"{self.source}:{self.line}"
        parts = [p for p in (where, self.field) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class UserError(SlaledgerError):
    """The user's input is wrong; carries one or more located problems."""

    def __init__(self, problems: Sequence[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ContractError(UserError):
    """A contract file is invalid."""


class EventsError(UserError):
    """An events file (maintenance windows, exclusions) is invalid or not allowed."""


class ObservationsError(UserError):
    """An observations file has a bad row or names something the contract lacks."""


class RecordsError(UserError):
    """A records file (tickets, swaps, DDoS events, …) has a bad line."""


class CustomersError(UserError):
    """A customers file (plans, currencies, base fees) is invalid or does not fit the contract."""


class UsageError(UserError):
    """A command-line argument has the wrong form."""


class HttpError(SlaledgerError):
    """A request the HTTP API refuses: answered as JSON ``{"error": message}`` with ``status``
    (and ``headers``, e.g. ``Retry-After``) by :mod:`slaledger.web.errors`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class DatabaseOpenError(UserError):
    """The database a ``--db`` URL names cannot be opened or brought up to date."""


class ConcurrentChangeError(UserError):
    """The store changed under a command again and again while it ran; running the command
    again is the remedy."""
