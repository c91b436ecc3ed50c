"""The audit log: every operator write, with who, when and the record before and after.

Writers call :func:`record` on the connection of their own transaction, so an audit entry
is committed together with the change it describes, or not at all. Also the errors and
input checks the operator stores (incidents, maintenance) share.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Engine, insert, select

from slaledger.core.contract import Contract
from slaledger.core.markdown_text import MAX_MARKDOWN_CHARS
from slaledger.core.publication import EARLIEST_INSTANT, FUTURE_HORIZON, instant_text
from slaledger.errors import Problem, UserError
from slaledger.store.operations_schema import audit_log

Subject = Literal["incident", "maintenance", "record"]
AUTOMATIC_ACTOR = "slaledger"
"""Who automatic incident detection acts as in the audit log and in updates."""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    """``incident.open``, ``incident.update``, ``incident.classify``, ``incident.resolve``,
    ``incident.auto-open``, ``incident.auto-resolve``, ``maintenance.create``,
    ``maintenance.cancel``."""
    subject: Subject
    subject_id: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "subject_id": self.subject_id,
            "before": self.before,
            "after": self.after,
        }


def _json(state: Mapping[str, Any] | None) -> str | None:
    return None if state is None else json.dumps(state, sort_keys=True, separators=(",", ":"))


def record(
    connection: Connection,
    *,
    at: int,
    actor: str,
    action: str,
    subject: Subject,
    subject_id: int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Add one entry inside the caller's transaction."""
    connection.execute(
        insert(audit_log),
        {
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "subject_id": subject_id,
            "before": _json(before),
            "after": _json(after),
        },
    )


class AuditLog:
    """Reading the audit log."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def history(self, subject: Subject, subject_id: int) -> list[AuditEntry]:
        """Every entry about one incident or maintenance window, oldest first."""
        c = audit_log.c
        query = (
            select(audit_log).where(c.subject == subject, c.subject_id == subject_id).order_by(c.id)
        )
        return self._entries(query)

    def entries(self, limit: int = 100) -> list[AuditEntry]:
        """The newest ``limit`` entries, newest first."""
        return self._entries(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))

    def _entries(self, query: Any) -> list[AuditEntry]:
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            AuditEntry(
                id=int(row.id),
                at=int(row.at),
                actor=str(row.actor),
                action=str(row.action),
                subject=row.subject,
                subject_id=int(row.subject_id),
                before=None if row.before is None else json.loads(row.before),
                after=None if row.after is None else json.loads(row.after),
            )
            for row in rows
        ]


class NotFoundError(UserError):
    """An incident or maintenance window id that is not stored."""


class ConflictError(UserError):
    """A change that the record's state no longer allows (already resolved, cancelled)."""


def check_title(title: str) -> str:
    """A stripped title of 1 to 300 characters on one line; :class:`UserError` naming
    ``title`` else (a line break would end up in an email's Subject header)."""
    stripped = title.strip()
    if not 1 <= len(stripped) <= 300:
        raise UserError(
            Problem(f"expected 1 to 300 characters, got {len(stripped)}", field="title")
        )
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in stripped):
        raise UserError(
            Problem(
                "expected one line of text, got a line break or another control character",
                field="title",
            )
        )
    return stripped


LOCATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def check_services(
    contract: Contract, services: Sequence[str] | Literal["*"], *, star: bool
) -> tuple[str, ...] | Literal["*"]:
    """Known, distinct service ids (or ``"*"`` when ``star`` allows it)."""
    if services == "*":
        if star:
            return "*"
        return tuple(contract.services)
    if isinstance(services, str) or not services:
        raise UserError(Problem("expected a list of one or more service ids", field="services"))
    known = ", ".join(contract.services)
    for name in services:
        if name not in contract.services:
            raise UserError(
                Problem(
                    f"unknown service {name!r}; contract {contract.contract!r} has: {known}",
                    field="services",
                )
            )
    if len(set(services)) != len(services):
        raise UserError(Problem("expected each service once", field="services"))
    return tuple(services)


def check_location(location: str | None) -> str | None:
    if location is not None and not LOCATION.match(location):
        raise UserError(
            Problem(
                f"expected a location name of letters, digits, '.', '_' or '-', got {location!r}",
                field="location",
            )
        )
    return location


def check_body(body: str) -> str:
    if not body.strip():
        raise UserError(Problem("expected a message (Markdown), got nothing", field="body"))
    if len(body) > MAX_MARKDOWN_CHARS:
        raise UserError(
            Problem(
                f"expected at most {MAX_MARKDOWN_CHARS} characters, got {len(body)}", field="body"
            )
        )
    return body


def check_choice(value: str, choices: Sequence[str], name: str) -> None:
    if value not in choices:
        raise UserError(Problem(f"expected one of {', '.join(choices)}, got {value!r}", field=name))


def check_not_after(instant: int, now: int, name: str) -> None:
    if instant < EARLIEST_INSTANT:
        check_sane(instant, now, name, latest=now)
    if instant > now:
        raise UserError(
            Problem(
                f"expected an instant at or before now ({instant_text(now)}), "
                f"got {instant_text(instant)}",
                field=name,
            )
        )


def check_sane(instant: int, now: int, name: str, *, latest: int | None = None) -> None:
    """An instant from 2000-01-01 to ``latest`` (default: :data:`FUTURE_HORIZON` after
    ``now``): a year 0026 or 0001 is a typing mistake, and would break pages that show it."""
    latest = now + FUTURE_HORIZON if latest is None else latest
    if not EARLIEST_INSTANT <= instant <= latest:
        raise UserError(
            Problem(
                f"expected an instant from {instant_text(EARLIEST_INSTANT)} to "
                f"{instant_text(latest)}, got {instant_text(instant)}",
                field=name,
            )
        )
