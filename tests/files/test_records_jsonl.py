"""Records files (JSON Lines): every kind read exactly, every bad line one located problem."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from slaledger.core.records import (
    Claim,
    Ddos,
    HardwareSwap,
    Outage,
    Provisioning,
    Ticket,
    record_json,
    record_key,
)
from slaledger.core.timebase import parse_instant
from slaledger.errors import RecordsError
from slaledger.files.records_jsonl import MAX_SHOWN_PROBLEMS, parse_records, read_records

GOOD = [
    {
        "kind": "ticket",
        "id": "T-1",
        "customer": "acme",
        "severity": "P1",
        "opened": "2026-12-24T17:30:00Z",
        "responses": [
            {"at": "2026-12-24T17:31:00Z", "by": "auto"},
            {"at": "2026-12-29T09:00:00.5+00:00", "by": "human"},
        ],
    },
    {
        "kind": "hardware-swap",
        "id": "HW-7",
        "customer": "acme",
        "location": "fra1",
        "diagnosed": "2026-10-05T10:00:00+02:00",
        "replaced": "2026-10-05T14:00:01+02:00",
    },
    {
        "kind": "ddos",
        "id": "D-3",
        "location": "fra1",
        "detected": "2026-10-05T10:00:00Z",
        "mitigated": "2026-10-05T10:00:01.9Z",
        "peak_gbps": "3.2",
    },
    {
        "kind": "provisioning",
        "id": "vps-9",
        "location": "fra1",
        "requested": "2026-10-05T10:00:00Z",
        "ready": "2026-10-05T10:01:13.5Z",
        "failed": False,
    },
    {
        "kind": "outage",
        "service": "power",
        "location": "fra1",
        "start": "2026-10-07T03:00:00Z",
        "end": "2026-10-07T03:42:00Z",
        "note": "UPS transfer fault",
    },
    {"kind": "claim", "customer": "acme", "month": "2026-10", "received": "2026-11-03T08:00:00Z"},
]


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems(tmp_path: Path, lines: list[str]) -> list[str]:
    path = write(tmp_path, lines)
    with pytest.raises(RecordsError) as caught:
        read_records(path)
    assert caught.value.problems
    return [str(problem).replace(str(path), "FILE") for problem in caught.value.problems]


def test_every_kind_reads_exactly(tmp_path: Path) -> None:
    path = write(tmp_path, [json.dumps(record) for record in GOOD] + [""])
    ticket, swap, ddos, provisioning, outage, claim = read_records(path)
    assert isinstance(ticket, Ticket)
    assert ticket.opened == parse_instant("2026-12-24T17:30:00Z")
    assert ticket.first_human_response == parse_instant("2026-12-29T09:00:00.500000Z")
    assert isinstance(swap, HardwareSwap)
    assert swap.replaced == parse_instant("2026-10-05T12:00:01Z")
    assert isinstance(ddos, Ddos)
    assert ddos.peak_gbps == Decimal("3.2")
    assert isinstance(provisioning, Provisioning)
    assert not provisioning.failed
    assert isinstance(outage, Outage)
    assert record_key(outage) == "power@fra1@2026-10-07T03:00:00Z"
    assert isinstance(claim, Claim)
    assert record_key(claim) == "acme@2026-10"
    assert record_json(ddos) == {**GOOD[2], "mitigated": "2026-10-05T10:00:01.9Z"}
    assert record_json(swap)["diagnosed"] == "2026-10-05T08:00:00Z"


def test_contradicting_instants_name_the_field(tmp_path: Path) -> None:
    lines = [
        '{"kind": "ticket", "id": "T-2", "severity": "P1", "opened": "2026-12-24T17:30:00Z", '
        '"responses": [{"at": "2026-12-24T17:29:59.999999Z", "by": "human"}]}',
        '{"kind": "hardware-swap", "id": "HW-1", "diagnosed": "2026-10-05T10:00:00Z", '
        '"replaced": "2026-10-05T09:00:00Z"}',
        '{"kind": "ddos", "id": "D-1", "detected": "2026-10-05T10:00:00Z", '
        '"mitigated": "2026-10-05T09:59:59Z", "peak_gbps": "1"}',
        '{"kind": "provisioning", "id": "v-1", "requested": "2026-10-05T10:00:00Z", '
        '"ready": "2026-10-05T09:00:00Z"}',
        '{"kind": "outage", "service": "power", "start": "2026-10-05T10:00:00Z", '
        '"end": "2026-10-05T10:00:00Z"}',
    ]
    assert problems(tmp_path, lines) == [
        "FILE:1: responses[0].at: expected an instant at or after opened "
        "(2026-12-24T17:30:00Z), got 2026-12-24T17:29:59.999999Z",
        "FILE:2: replaced: expected an instant at or after diagnosed (2026-10-05T10:00:00Z), "
        "got 2026-10-05T09:00:00Z",
        "FILE:3: mitigated: expected an instant at or after detected (2026-10-05T10:00:00Z), "
        "got 2026-10-05T09:59:59Z",
        "FILE:4: ready: expected an instant at or after requested (2026-10-05T10:00:00Z), "
        "got 2026-10-05T09:00:00Z",
        "FILE:5: end: expected an instant after start (2026-10-05T10:00:00Z), "
        "got 2026-10-05T10:00:00Z",
    ]


def test_bad_values_and_shapes(tmp_path: Path) -> None:
    lines = [
        '{"kind": "ddos", "id": "D-3", "detected": "2026-10-05T10:00:00", '
        '"mitigated": "2026-10-05T10:00:01Z", "peak_gbps": 3.2}',
        '{"kind": "incident", "id": "x"}',
        '{"id": "x"}',
        "[1, 2]",
        "{bad",
        '{"kind": "provisioning", "id": "v", "requested": "2026-10-05T10:00:00Z", "x": 1}',
        '{"kind": "claim", "customer": "acme", "month": "2026-13", '
        '"received": "2026-11-01T00:00:00Z"}',
        '{"kind": "ticket", "id": "", "severity": "P1", "opened": "2026-02-30T00:00:00Z", '
        '"responses": [{"at": "2026-03-01T00:00:00Z", "by": "bot"}]}',
        '{"kind": "ddos", "id": "D-4", "detected": "2026-10-05T10:00:00Z", '
        '"mitigated": "2026-10-05T10:00:01Z", "peak_gbps": "-1"}',
        '{"kind": "ticket", "id": "T-9", "opened": 17}',
    ]
    assert problems(tmp_path, lines) == [
        "FILE:1: detected: expected an instant with Z or an offset, like "
        "2026-10-01T09:30:00Z, got '2026-10-05T10:00:00'",
        'FILE:1: peak_gbps: expected a quoted decimal like "3.2" (an unquoted number is read '
        "as a binary float), got 3.2",
        "FILE:2: kind: expected one of ticket, hardware-swap, ddos, provisioning, outage, "
        'claim, got "incident"',
        "FILE:3: kind: missing required key; expected one of ticket, hardware-swap, ddos, "
        "provisioning, outage, claim",
        "FILE:4: expected a JSON object (one record), got an array",
        "FILE:5: expected a JSON object: Expecting property name enclosed in double quotes "
        "at column 2",
        "FILE:6: x: unknown key 'x'; expected one of: kind, id, customer, location, "
        "requested, ready, failed",
        "FILE:7: month: expected a month like 2026-10, got '2026-13'",
        "FILE:8: id: expected a non-empty string, got ''",
        "FILE:8: opened: expected an instant with Z or an offset, like 2026-10-01T09:30:00Z, "
        "got '2026-02-30T00:00:00Z'",
        "FILE:8: responses[0].by: expected one of 'auto', 'human', got 'bot'",
        "FILE:9: peak_gbps: expected a decimal of at least 0 like \"3.2\", got '-1'",
        "FILE:10: severity: missing required key",
        "FILE:10: opened: expected an instant with Z or an offset, like 2026-10-01T09:30:00Z, "
        "got 17",
    ]


def test_nothing_is_read_when_one_line_is_bad(tmp_path: Path) -> None:
    lines = [json.dumps(record) for record in GOOD] + ['{"kind": "claim"}']
    assert problems(tmp_path, lines) == [
        "FILE:7: customer: missing required key",
        "FILE:7: month: missing required key",
        "FILE:7: received: missing required key",
    ]


def test_many_bad_lines_are_counted(tmp_path: Path) -> None:
    found = problems(tmp_path, ['{"kind": "nope"}'] * (MAX_SHOWN_PROBLEMS + 5))
    assert len(found) == MAX_SHOWN_PROBLEMS + 1
    assert found[-1] == "and 5 more bad lines; nothing was read"


def test_hostile_lines(tmp_path: Path) -> None:
    deep = '{"kind": "ticket", "x": ' + "[" * 20 + "]" * 20 + "}"
    long = '{"kind": "ticket", "id": "' + "x" * (1024 * 1024) + '"}'
    assert problems(tmp_path, [deep, long]) == [
        "FILE:1: expected a JSON object nested at most 8 levels deep",
        "FILE:2: expected a line of at most 1048576 bytes (one record)",
    ]


def test_text_without_a_file() -> None:
    assert parse_records("\n\n", "x") == []
