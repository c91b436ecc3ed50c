"""``slaledger report --records``: the commitments section, exact, in every format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run

CONTRACT = """\
contract: desk
name: Desk SLA
services:
  web: {name: Web, target: "99.9", downtime: {rule: probe-ratio}}
  power: {name: Power, target: "99.99", downtime: {rule: first-fail-to-first-success}}
calendars:
  uk-office:
    timezone: UTC
    open: {mon-fri: "09:00-18:00"}
    holidays: {country: GB, subdivision: ENG}
  cet-support:
    timezone: Europe/Berlin
    open: {mon-fri: "09:00-22:00"}
commitments:
  support-p1: {kind: first-response, severity: P1, within: 1h, calendar: uk-office}
  support-p3: {kind: first-response, severity: P3, within: 1bd, calendar: uk-office}
  hardware-swap:
    kind: deadline
    records: hardware-swap
    within: 4h
    calendar: cet-support
    late_credit: {per_started_hour: 1d, cap: "100"}
"""

RECORDS = [
    json.dumps(record)
    for record in [
        {
            "kind": "ticket",
            "id": "T-1",
            "customer": "acme",
            "severity": "P1",
            "opened": "2026-12-24T17:30:00Z",
            "responses": [
                {"at": "2026-12-24T17:30:02Z", "by": "auto"},
                {"at": "2026-12-29T09:30:00Z", "by": "human"},
            ],
        },
        {
            "kind": "ticket",
            "id": "T-2",
            "customer": "acme",
            "severity": "P1",
            "opened": "2026-12-24T17:30:00Z",
            "responses": [{"at": "2026-12-29T09:30:00.000001Z", "by": "human"}],
        },
        {
            "kind": "ticket",
            "id": "T-3",
            "customer": "acme",
            "severity": "P1",
            "opened": "2026-12-31T17:30:00Z",
            "responses": [{"at": "2026-12-31T17:30:01Z", "by": "auto"}],
        },
        {
            "kind": "ticket",
            "id": "T-4",
            "customer": "acme",
            "severity": "P3",
            "opened": "2026-12-07T09:00:00Z",
            "responses": [{"at": "2026-12-07T18:00:00Z", "by": "human"}],
        },
        {
            "kind": "hardware-swap",
            "id": "HW-1",
            "customer": "acme",
            "location": "fra1",
            "diagnosed": "2026-12-01T10:00:00+01:00",
            "replaced": "2026-12-01T13:00:01Z",
        },
    ]
]

PROBES = "timestamp,service,location,status,error,latency_ms,retry_after\n" + (
    "2026-12-01T00:00:00Z,web,lon,200,,12,\n2026-12-01T00:00:00Z,power,lon,200,,12,\n"
)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "probes.csv").write_text(PROBES, encoding="utf-8")
    (tmp_path / "records.jsonl").write_text("\n".join(RECORDS) + "\n", encoding="utf-8")
    return tmp_path


def report(run_cli: Callable[..., Run], files: Path, *options: str) -> Run:
    return run_cli(
        "report",
        files / "contract.yaml",
        "--probes",
        files / "probes.csv",
        "--month",
        "2026-12",
        "--records",
        files / "records.jsonl",
        *options,
    )


def item(
    ident: str,
    start: str,
    due: str,
    end: str | None,
    elapsed: str,
    status: str,
    late_hours: int | None = None,
) -> dict[str, object]:
    return {
        "id": ident,
        "start": start,
        "due": due,
        "end": end,
        "elapsed_seconds": elapsed,
        "status": status,
        "late_hours": late_hours,
    }


def test_json_has_the_commitments_section_as_specified(
    run_cli: Callable[..., Run], files: Path
) -> None:
    run = report(run_cli, files, "--format", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["commitments"] == [
        {
            "commitment": "support-p1",
            "kind": "first-response",
            "met": False,
            "counts": {"met": 1, "missed": 1, "pending": 1, "not-covered": 0},
            "items": [
                # Christmas, the weekend and the observed Boxing Day are closed; the reply
                # came 1 µs after the due instant (T-1, exactly at it, is met).
                item(
                    "T-2",
                    "2026-12-24T17:30:00Z",
                    "2026-12-29T09:30:00Z",
                    "2026-12-29T09:30:00.000001Z",
                    "3600.000001",
                    "missed",
                ),
                # New Year's Day and the weekend closed; 30 min open until the month's end.
                item(
                    "T-3", "2026-12-31T17:30:00Z", "2027-01-04T09:30:00Z", None, "1800", "pending"
                ),
            ],
        },
        {
            "commitment": "support-p3",
            "kind": "first-response",
            "met": True,
            "counts": {"met": 1, "missed": 0, "pending": 0, "not-covered": 0},
            "items": [],
        },
        {
            "commitment": "hardware-swap",
            "kind": "deadline",
            "met": False,
            "counts": {"met": 0, "late": 1, "pending": 0, "not-covered": 0},
            "items": [
                # 10:00 CET + 4 h = 14:00 CET (13:00Z); replaced 1 s later: 1 started hour.
                item(
                    "HW-1",
                    "2026-12-01T09:00:00Z",
                    "2026-12-01T13:00:00Z",
                    "2026-12-01T13:00:01Z",
                    "14401",
                    "late",
                    1,
                ),
            ],
        },
    ]


def test_outage_records_are_down_time_of_their_service(
    run_cli: Callable[..., Run], files: Path
) -> None:
    outage = {
        "kind": "outage",
        "service": "power",
        "location": "lon",
        "start": "2026-12-02T10:00:00Z",
        "end": "2026-12-02T10:30:00.5Z",
        "note": "UPS transfer fault",
    }
    with (files / "records.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(outage) + "\n")
    run = report(run_cli, files, "--format", "json")
    assert run.code == 0, run.err
    power = json.loads(run.out)["results"][1]
    assert (power["service"], power["downtime_minutes"], power["availability"]) == (
        "power",
        31,
        "99.930556",
    )


def test_the_evaluation_instant_decides_open_tickets(
    run_cli: Callable[..., Run], files: Path
) -> None:
    run = report(run_cli, files, "--format", "json", "--at", "2027-01-04T09:30:00.000001Z")
    assert run.code == 0, run.err
    p1 = json.loads(run.out)["commitments"][0]
    assert p1["counts"] == {"met": 1, "missed": 2, "pending": 0, "not-covered": 0}
    assert p1["items"][1]["elapsed_seconds"] == "3600.000001"
    assert p1["items"][1]["status"] == "missed"
    at_due = report(run_cli, files, "--format", "json", "--at", "2027-01-04T09:30:00Z")
    assert json.loads(at_due.out)["commitments"][0]["items"][1]["status"] == "pending"


def test_table_lists_each_commitment_and_every_item_not_met(
    run_cli: Callable[..., Run], files: Path
) -> None:
    run = report(run_cli, files)
    assert run.code == 0, run.err
    assert run.out.split("\n\ncommitments")[1].splitlines() == [
        " (evaluated at 2027-01-01T00:00:00Z):",
        "commitment     kind            met         items",
        "------------------------------------------------",
        "support-p1     first-response  NO          1 met, 1 missed, 1 pending, 0 not-covered",
        "    missed      T-2  start 2026-12-24T17:30:00Z  due 2026-12-29T09:30:00Z  "
        "end 2026-12-29T09:30:00.000001Z  elapsed 3600.000001 s",
        "    pending     T-3  start 2026-12-31T17:30:00Z  due 2027-01-04T09:30:00Z  end open  "
        "elapsed 1800 s",
        "support-p3     first-response  yes         1 met, 0 missed, 0 pending, 0 not-covered",
        "hardware-swap  deadline        NO          0 met, 1 late, 0 pending, 0 not-covered",
        "    late        HW-1  start 2026-12-01T09:00:00Z  due 2026-12-01T13:00:00Z  "
        "end 2026-12-01T13:00:01Z  elapsed 14401 s, 1 h late",
    ]


def test_csv_has_a_second_table_of_commitments(run_cli: Callable[..., Run], files: Path) -> None:
    run = report(run_cli, files, "--format", "csv")
    assert run.code == 0, run.err
    assert run.out.split("\n\n")[1].splitlines() == [
        "commitment,kind,met,items_met,items_missed,items_late,items_pending,items_not_covered,id,status,start,due,end,elapsed_seconds,late_hours,at,count,value_seconds",
        "support-p1,first-response,false,1,1,,1,0,,,,,,,,,,",
        "support-p1,first-response,,,,,,,T-2,missed,2026-12-24T17:30:00Z,2026-12-29T09:30:00Z,2026-12-29T09:30:00.000001Z,3600.000001,,,,",
        "support-p1,first-response,,,,,,,T-3,pending,2026-12-31T17:30:00Z,2027-01-04T09:30:00Z,,1800,,,,",
        "support-p3,first-response,true,1,0,,0,0,,,,,,,,,,",
        "hardware-swap,deadline,false,0,,1,0,0,,,,,,,,,,",
        "hardware-swap,deadline,,,,,,,HW-1,late,2026-12-01T09:00:00Z,2026-12-01T13:00:00Z,2026-12-01T13:00:01Z,14401,1,,,",
    ]


def test_a_bad_records_line_is_one_located_error(run_cli: Callable[..., Run], files: Path) -> None:
    (files / "records.jsonl").write_text(
        RECORDS[0] + "\n" + '{"kind": "hardware-swap", "id": "HW-2", '
        '"diagnosed": "2026-12-01T10:00:00Z", "replaced": "2026-12-01T09:00:00Z"}\n',
        encoding="utf-8",
    )
    run = report(run_cli, files)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"error: {files / 'records.jsonl'}:2: replaced: expected an instant at or after "
        "diagnosed (2026-12-01T10:00:00Z), got 2026-12-01T09:00:00Z\n"
    )
