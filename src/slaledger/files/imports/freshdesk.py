"""Freshdesk's ticket export (CSV, Tickets > Export), as ``ticket`` records.

Columns read (``docs/imports.md``), matched without regard to letter case:

- ``Ticket ID``, ``Created time`` and ``Priority`` (``Low``, ``Medium``, ``High``,
  ``Urgent``; the severity through ``--severity-map``) are required;
- ``Initial response time``: when an agent first replied (empty: no reply yet), the ticket's
  one ``human`` response; without that column, ``First response time (in hrs)`` (hours from
  creation, a decimal) gives it;
- ``Company Name`` (or ``Company``): the customer, through ``--customer-map``.

Freshdesk writes local times without an offset, in the exporting account's time zone:
``--timezone`` names it. A time the clocks skipped or showed twice cannot be placed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slaledger.core.records import AnyRecord
from slaledger.core.timebase import format_instant, to_instant
from slaledger.errors import ObservationsError, Problem, RecordsError, UsageError
from slaledger.files.imports.helpdesk import ImportedRecords, ticket_record
from slaledger.files.imports.json_source import read_text

TICKET_ID, CREATED, PRIORITY = "Ticket ID", "Created time", "Priority"
INITIAL_RESPONSE, FIRST_RESPONSE_HOURS = "Initial response time", "First response time (in hrs)"
COMPANY_COLUMNS = ("Company Name", "Company")
_KNOWN = (TICKET_ID, CREATED, PRIORITY, INITIAL_RESPONSE, FIRST_RESPONSE_HOURS, *COMPANY_COLUMNS)
_LOCAL = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?$")
_LOCAL_EXPECTED = "expected a local date and time like 2026-10-05 09:12:44 (no offset)"

Fail = Callable[[int, str | None, str], NoReturn]


@dataclass(frozen=True)
class FreshdeskOptions:
    timezone: str | None = None
    severity_map: Mapping[str, str] = field(default_factory=dict)
    """Freshdesk priority (lower case) → severity; empty: the priority itself."""
    customer_map: Mapping[str, str] = field(default_factory=dict)
    """Company name (lower case) → customer id; unmapped companies are their own name."""


def read_freshdesk(path: Path, options: FreshdeskOptions) -> ImportedRecords:
    """The ``ticket`` records of a Freshdesk ticket export; :class:`RecordsError` at the
    first bad row (its line and column)."""
    source = str(path)
    if options.timezone is None:
        raise UsageError(
            Problem(
                "a Freshdesk export has local times without an offset: give --timezone, the "
                "account's time zone (Admin > Helpdesk settings), e.g. Europe/Berlin",
                field="--timezone",
            )
        )
    try:
        zone = ZoneInfo(options.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            Problem(
                f"expected an IANA time zone like UTC or Europe/Berlin, got {options.timezone!r}",
                field="--timezone",
            )
        ) from None
    try:
        text = read_text(path)
    except ObservationsError as error:
        raise RecordsError(error.problems) from None

    def fail(line: int, column: str | None, message: str) -> NoReturn:
        raise RecordsError(Problem(message, source, line, column))

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    imported = ImportedRecords(source)
    previous = 0
    try:
        header = [name.strip() for name in next(reader, [])]
        columns = _columns(header, lambda message: fail(1, None, message))
        previous = reader.line_num
        for row in reader:
            line = previous + 1
            previous = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                fail(
                    line, None, f"expected {len(header)} fields as in the header, found {len(row)}"
                )
            cells = {name: row[position].strip() for name, position in columns.items()}
            imported.add(_ticket(cells, options, zone, source, line, fail), line)
    except csv.Error as error:
        fail(previous + 1, None, f"expected a well-formed CSV row ({error})")
    return imported


def _columns(header: list[str], fail: Callable[[str], NoReturn]) -> dict[str, int]:
    by_folded = {name.lower(): name for name in _KNOWN}
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        known = by_folded.get(name.lower())
        if known is not None and known not in columns:
            columns[known] = position
    missing = [name for name in (TICKET_ID, CREATED, PRIORITY) if name not in columns]
    if missing:
        found = ", ".join(repr(name) for name in header[:12])
        fail(
            f"expected a Freshdesk ticket export with the columns Ticket ID, Created time and "
            f"Priority; missing {', '.join(missing)}; the header has: {found}"
        )
    return columns


def _ticket(
    cells: dict[str, str],
    options: FreshdeskOptions,
    zone: ZoneInfo,
    source: str,
    line: int,
    fail: Fail,
) -> AnyRecord:
    ticket_id = cells[TICKET_ID]
    if not ticket_id:
        fail(line, TICKET_ID, "expected the ticket's id, got ''")
    opened = _local_instant(cells[CREATED], zone, options.timezone or "", line, CREATED, fail)
    priority = cells[PRIORITY]
    severity = options.severity_map.get(priority.lower()) if options.severity_map else priority
    if not severity:
        expected = (
            f"a priority --severity-map maps ({', '.join(options.severity_map)})"
            if options.severity_map
            else "a priority"
        )
        fail(line, PRIORITY, f"expected {expected}, got {priority!r}")
    responses = []
    if INITIAL_RESPONSE in cells:
        if cells[INITIAL_RESPONSE]:
            first = _local_instant(
                cells[INITIAL_RESPONSE], zone, options.timezone or "", line, INITIAL_RESPONSE, fail
            )
            responses.append({"at": format_instant(first), "by": "human"})
    elif cells.get(FIRST_RESPONSE_HOURS):
        hours = _hours(cells[FIRST_RESPONSE_HOURS])
        if hours is None:
            return fail(
                line,
                FIRST_RESPONSE_HOURS,
                f"expected hours like 1.25, 0 or more, got {cells[FIRST_RESPONSE_HOURS]!r}",
            )
        at = opened + int(hours * 3_600_000_000)
        responses.append({"at": format_instant(at), "by": "human"})
    value: dict[str, object] = {
        "kind": "ticket",
        "id": ticket_id,
        "severity": severity,
        "opened": format_instant(opened),
        "responses": responses,
    }
    company = next((cells[name] for name in COMPANY_COLUMNS if cells.get(name)), "")
    if company:
        value["customer"] = options.customer_map.get(company.lower(), company)
    fields = {
        "opened": CREATED,
        "responses": INITIAL_RESPONSE if INITIAL_RESPONSE in cells else FIRST_RESPONSE_HOURS,
        "severity": PRIORITY,
        "id": TICKET_ID,
        "customer": "Company Name",
    }
    return ticket_record(value, source, line, fields)


def _hours(text: str) -> Decimal | None:
    try:
        hours = Decimal(text)
    except InvalidOperation:
        return None
    return hours if hours.is_finite() and hours >= 0 else None


def _local_instant(
    text: str, zone: ZoneInfo, zone_name: str, line: int, column: str, fail: Fail
) -> int:
    match = _LOCAL.match(text)
    if match is None:
        return fail(line, column, f"{_LOCAL_EXPECTED}, got {text!r}")
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        wall = datetime(year, month, day, hour, minute, second)
    except ValueError:
        fail(line, column, f"{_LOCAL_EXPECTED}, got {text!r}: no such date or time")
    early, late = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        skipped = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall
        fail(
            line,
            column,
            f"{text!r} {'does not exist' if skipped else 'happened twice'} in {zone_name} "
            f"(the clocks {'skipped it' if skipped else 'went back'}); export with the "
            "account's time zone set to UTC and import with --timezone UTC",
        )
    return to_instant(early)
