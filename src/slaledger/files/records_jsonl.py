"""Records files: JSON Lines, one record object a line, read all or nothing.

Every bad line is one problem ``FILE:LINE: field: expected …, got …`` (at most
:data:`MAX_SHOWN_PROBLEMS` of them, then how many more lines are bad); when any line is bad
nothing of the file is returned. Blank lines are skipped.

Hostile files: a file larger than :data:`MAX_RECORDS_BYTES`, a line longer than
:data:`MAX_LINE_BYTES` and an object nested deeper than :data:`MAX_RECORD_DEPTH` levels are
refused as located problems (a record nests three levels: a ticket, its responses, one
response).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from slaledger.core.records import RECORD_ADAPTER, RECORD_KINDS, RECORD_MODELS, AnyRecord
from slaledger.errors import Problem, RecordsError
from slaledger.files.atomic import decode_utf8, read_input
from slaledger.files.yaml_document import YamlDocument, explain_validation_error

MAX_RECORDS_BYTES = 1024 * 1024 * 1024
"""Largest records file read (a million tickets with a few responses each is ~300 MB)."""

MAX_LINE_BYTES = 1024 * 1024
"""Longest line (one record) read."""

MAX_RECORD_DEPTH = 8
"""Deepest nesting of objects and arrays in one line."""

MAX_SHOWN_PROBLEMS = 20
"""Bad lines listed one by one; the rest are counted."""


def read_records(path: Path) -> list[AnyRecord]:
    """The records of the JSON Lines file ``path``; :class:`RecordsError` on any bad line."""
    return read_located_records(path)[0]


def read_located_records(path: Path) -> tuple[list[AnyRecord], list[int]]:
    """:func:`read_records`, with the line each record was read from."""
    source = str(path)
    try:
        size = Path(path).stat().st_size
    except OSError:
        size = 0  # read_input says why it cannot be read
    if size > MAX_RECORDS_BYTES:
        message = (
            f"the file has {size} bytes, more than the {MAX_RECORDS_BYTES} a records file may "
            "have; split it by month"
        )
        raise RecordsError(Problem(message, source))
    text = decode_utf8(read_input(path, RecordsError), source, RecordsError)
    return parse_located_records(text.removeprefix("\ufeff"), source)


def parse_records(text: str, source: str) -> list[AnyRecord]:
    """The records of JSON Lines ``text`` read from ``source`` (all, or :class:`RecordsError`)."""
    return parse_located_records(text, source)[0]


def parse_located_records(text: str, source: str) -> tuple[list[AnyRecord], list[int]]:
    """:func:`parse_records`, with the line each record was read from."""
    records: list[AnyRecord] = []
    lines: list[int] = []
    problems: list[Problem] = []
    bad_lines = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        found = _record(line, source, number)
        if isinstance(found, list):
            bad_lines += 1
            if len(problems) < MAX_SHOWN_PROBLEMS:
                problems.extend(found[: MAX_SHOWN_PROBLEMS - len(problems)])
            continue
        records.append(found)
        lines.append(number)
    if bad_lines:
        shown_lines = len({problem.line for problem in problems})
        if bad_lines > shown_lines:
            more = bad_lines - shown_lines
            problems.append(
                Problem(f"and {more} more bad line{'s' if more > 1 else ''}; nothing was read")
            )
        raise RecordsError(problems)
    return records, lines


def _record(line: str, source: str, number: int) -> AnyRecord | list[Problem]:
    """One line's record, or its problems."""

    def problem(message: str, field: str | None = None) -> list[Problem]:
        return [Problem(message, source, number, field)]

    if len(line.encode()) > MAX_LINE_BYTES:
        return problem(f"expected a line of at most {MAX_LINE_BYTES} bytes (one record)")
    if line.count("{") + line.count("[") <= MAX_RECORD_DEPTH:  # cannot be nested too deep
        try:  # the fast path: pydantic reads the JSON itself; mistakes are explained below
            return RECORD_ADAPTER.validate_json(line)
        except ValidationError:
            pass
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return problem(f"expected a JSON object: {error.msg} at column {error.colno}")
    except RecursionError:
        return problem(f"expected a JSON object nested at most {MAX_RECORD_DEPTH} levels deep")
    if not isinstance(value, dict):
        return problem(f"expected a JSON object (one record), got {_kind_of(value)}")
    if _depth(value) > MAX_RECORD_DEPTH:
        return problem(f"expected a JSON object nested at most {MAX_RECORD_DEPTH} levels deep")
    kind = value.get("kind")
    model = RECORD_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        expected = f"expected one of {', '.join(RECORD_KINDS)}"
        if "kind" not in value:
            return problem(f"missing required key; {expected}", "kind")
        return problem(f"{expected}, got {_shown(kind)}", "kind")
    try:
        record: AnyRecord = model.model_validate(value)  # type: ignore[assignment]
    except ValidationError as error:
        document = YamlDocument(source, value)
        findings = explain_validation_error(document, model, error)
        return [
            Problem(finding.message, source, number, document.field_of(finding.path) or None)
            for finding in findings
        ]
    return record


def _depth(value: Any) -> int:
    level = [value]
    depth = 0
    while level:
        depth += 1
        if depth > MAX_RECORD_DEPTH:
            return depth
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            below += [child for child in children if type(child) in (dict, list)]
        level = below
    return depth


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    return _shown(value)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"
