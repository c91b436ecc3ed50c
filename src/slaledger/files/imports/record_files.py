"""Records files in every format ``slaledger records import`` reads: our JSON Lines, a
Zendesk export, a Freshdesk ticket CSV; each record with the line it was read from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

from slaledger.errors import Problem, UsageError
from slaledger.files.imports.freshdesk import FreshdeskOptions, read_freshdesk
from slaledger.files.imports.helpdesk import ImportedRecords, parse_mapping
from slaledger.files.imports.zendesk import ZendeskOptions, read_zendesk
from slaledger.files.records_jsonl import read_located_records

RecordFormat = Literal["jsonl", "zendesk", "freshdesk"]
RECORD_FORMATS: tuple[str, ...] = get_args(RecordFormat)


def read_record_file(
    path: Path,
    fmt: RecordFormat,
    *,
    severity_map: Sequence[str] = (),
    customer_map: Sequence[str] = (),
    timezone: str | None = None,
) -> ImportedRecords:
    """Every record of ``path`` read as ``fmt``, or a :class:`~slaledger.errors.UserError`
    (a bad option, or the file's first bad line; for JSON Lines every bad line)."""
    if fmt not in RECORD_FORMATS:
        raise UsageError(
            Problem(f"expected one of {', '.join(RECORD_FORMATS)}, got {fmt!r}", field="--format")
        )
    severities = parse_mapping(severity_map, "--severity-map", "PRIORITY")
    customers = parse_mapping(customer_map, "--customer-map", "ORGANIZATION")
    if fmt == "jsonl":
        for option, given in (
            ("--severity-map", severity_map),
            ("--customer-map", customer_map),
            ("--timezone", timezone),
        ):
            if given:
                raise UsageError(
                    Problem("applies to Zendesk and Freshdesk exports only", field=option)
                )
        records, lines = read_located_records(path)
        return ImportedRecords(str(path), records, lines)
    if fmt == "zendesk":
        if timezone is not None:
            raise UsageError(
                Problem(
                    "applies to Freshdesk exports only (Zendesk's have offsets)", field="--timezone"
                )
            )
        return read_zendesk(path, ZendeskOptions(severities, customers))
    return read_freshdesk(path, FreshdeskOptions(timezone, severities, customers))
