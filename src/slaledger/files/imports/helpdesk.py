"""What the helpdesk importers (Zendesk, Freshdesk) share: their result, ``NAME=VALUE``
mapping options, and turning a ticket they read into a ``ticket`` record with its problems
located at the file's line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from slaledger.core.records import RECORD_ADAPTER, AnyRecord
from slaledger.errors import Problem, RecordsError, UsageError


@dataclass(frozen=True)
class ImportedRecords:
    """Records read from ``source``, each with the line it starts on."""

    source: str
    records: list[AnyRecord] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def add(self, record: AnyRecord, line: int) -> None:
        self.records.append(record)
        self.lines.append(line)


def parse_mapping(texts: Sequence[str], option: str, what: str) -> dict[str, str]:
    """``--severity-map urgent=P1,high=P2`` (repeatable, comma-separated) as a dict; names
    compared without regard to letter case (stored lower-case)."""
    mapping: dict[str, str] = {}
    for text in texts:
        for item in text.split(","):
            if not item.strip():
                continue
            name, equals, value = item.partition("=")
            name, value = name.strip().lower(), value.strip()
            if not equals or not name or not value:
                raise UsageError(
                    Problem(f"expected {what}=VALUE, got {item.strip()!r}", field=option)
                )
            if mapping.setdefault(name, value) != value:
                raise UsageError(
                    Problem(f"{name!r} is mapped to {mapping[name]} and to {value}", field=option)
                )
    return mapping


def ticket_record(
    value: dict[str, Any], source: str, line: int, fields: dict[str, str]
) -> AnyRecord:
    """The ``ticket`` record of ``value``; a mistake in it (a reply before the ticket was
    opened) is a :class:`RecordsError` at ``line``, naming the export's column or key that
    ``fields`` gives for the record's field."""
    try:
        return RECORD_ADAPTER.validate_python(value)
    except ValidationError as error:
        first = error.errors()[0]
        top = str(first["loc"][1]) if len(first["loc"]) > 1 else "ticket"
        message = first["msg"].removeprefix("Value error, ")
        raise RecordsError(Problem(message, source, line, fields.get(top, top))) from None
