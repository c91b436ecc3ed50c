"""Zendesk and Freshdesk exports read as ``ticket`` records.

The fixtures in ``fixtures/`` were written by hand from the tools' documented export formats
(Zendesk Tickets and Ticket Comments API JSON, Zendesk's JSON export, Freshdesk's ticket CSV
export); see ``fixtures/README.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slaledger.core.records import record_json
from slaledger.errors import UserError
from slaledger.files.imports.record_files import read_record_file

FIXTURES = Path(__file__).with_name("fixtures")
SEVERITIES = "urgent=tier-1,high=tier-2,normal=tier-2,low=tier-2,none=tier-2"


def test_zendesk_api_responses_an_agent_reply_is_human_a_trigger_or_automation_is_auto() -> None:
    imported = read_record_file(
        FIXTURES / "zendesk-api.json",
        "zendesk",
        severity_map=[SEVERITIES],
        customer_map=["361898904439=acme"],
    )
    assert imported.lines == [4, 19]
    assert [record_json(record) for record in imported.records] == [
        {
            "kind": "ticket",
            "id": "4101",
            "customer": "acme",
            "severity": "tier-1",
            "opened": "2026-10-05T09:00:00Z",
            # the request itself, the internal note and the requester's "Any news?" are not
            # responses; the trigger's acknowledgement is auto, the agent's reply human
            "responses": [
                {"at": "2026-10-05T09:00:05Z", "by": "auto"},
                {"at": "2026-10-05T09:12:30Z", "by": "human"},
            ],
        },
        {
            "kind": "ticket",
            "id": "4102",
            "severity": "tier-2",
            "opened": "2026-10-06T14:00:00Z",
            "responses": [{"at": "2026-10-07T14:00:00Z", "by": "auto"}],
        },
    ]


def test_zendesk_json_export_one_ticket_a_line_with_its_comments() -> None:
    imported = read_record_file(FIXTURES / "zendesk-export.jsonl", "zendesk")
    assert imported.lines == [1, 3]
    assert [record_json(record) for record in imported.records] == [
        {
            "kind": "ticket",
            "id": "5001",
            "customer": "361898904439",
            "severity": "high",
            "opened": "2026-10-08T07:30:00Z",
            "responses": [{"at": "2026-10-08T08:10:00Z", "by": "human"}],
        },
        {
            "kind": "ticket",
            "id": "5002",
            "severity": "none",
            "opened": "2026-10-09T20:00:00Z",
            "responses": [{"at": "2026-10-09T20:00:02Z", "by": "auto"}],
        },
    ]


def test_freshdesk_csv_initial_response_time_is_the_human_reply_in_the_accounts_zone() -> None:
    imported = read_record_file(
        FIXTURES / "freshdesk-tickets.csv",
        "freshdesk",
        timezone="Europe/Berlin",
        severity_map=["Urgent=P1", "High=P2,Medium=P3,Low=P3"],
        customer_map=["ACME GmbH=acme"],
    )
    assert imported.lines == [2, 3, 4]
    assert [record_json(record) for record in imported.records] == [
        {
            "kind": "ticket",
            "id": "201",
            "customer": "acme",
            "severity": "P1",
            "opened": "2026-10-05T09:00:00Z",
            "responses": [{"at": "2026-10-05T09:12:30Z", "by": "human"}],
        },
        {
            "kind": "ticket",
            "id": "202",
            "severity": "P3",
            "opened": "2026-10-06T14:00:00Z",
            "responses": [],
        },
        {  # opened 01:30 CEST, answered 03:45 CET after the clocks went back: 3 h 15 min
            "kind": "ticket",
            "id": "203",
            "customer": "Beta Ltd",
            "severity": "P2",
            "opened": "2026-10-24T23:30:00Z",
            "responses": [{"at": "2026-10-25T02:45:00Z", "by": "human"}],
        },
    ]


def test_freshdesk_first_response_hours_when_there_is_no_initial_response_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hours.csv"
    path.write_text(
        "Ticket ID,Priority,Created time,First response time (in hrs)\n"
        "7,Low,2026-10-05 10:00,1.25\n"
    )
    imported = read_record_file(path, "freshdesk", timezone="UTC")
    assert record_json(imported.records[0])["responses"] == [
        {"at": "2026-10-05T11:15:00Z", "by": "human"}
    ]


BAD = [
    (
        "zendesk",
        "bad.jsonl",
        '{"id": 1, "created_at": "2026-10-08T07:30:00Z", "priority": "low", "comments": []}\n'
        '{"id": 2, "created_at": "2026-10-08T07:30:00Z", "priority": "low", "comments": ['
        '{"created_at": "2026-10-08T07:00:00Z", "public": true, "author_id": 1}, '
        '{"created_at": "2026-10-08T07:10:00Z", "public": true, "author_id": 5}]}\n',
        {},
        "bad.jsonl:2: comments: expected an instant at or after opened "
        "(2026-10-08T07:30:00Z), got 2026-10-08T07:10:00Z",
    ),
    (
        "zendesk",
        "bad.json",
        '{"tickets": [\n {"id": 1, "created_at": "2026-10-08T07:30:00Z", "priority": "low"},\n'
        ' {"id": 2, "priority": "low"}\n]}\n',
        {},
        "bad.json:3: tickets[1]: expected the ticket's 'created_at'; found the keys 'id', "
        "'priority'",
    ),
    (
        "zendesk",
        "bad.json",
        '{"tickets": [\n {"id": 1, "created_at": "2026-10-08T07:30:00Z", "priority": "low"}\n]}',
        {"severity_map": ["urgent=P1"]},
        "bad.json:2: tickets[0].priority: expected a priority --severity-map maps (urgent), "
        'got "low"',
    ),
    (
        "freshdesk",
        "bad.csv",
        "Ticket ID,Priority,Created time,Initial response time\n1,Low,2026-10-25 02:30:00,\n",
        {"timezone": "Europe/Berlin"},
        "bad.csv:2: Created time: '2026-10-25 02:30:00' happened twice in Europe/Berlin (the "
        "clocks went back); export with the account's time zone set to UTC and import with "
        "--timezone UTC",
    ),
    (
        "freshdesk",
        "bad.csv",
        "Ticket ID,Priority,Created time,Initial response time\n"
        "1,Low,2026-10-25 04:30:00,2026-10-25 04:00:00\n",
        {"timezone": "Europe/Berlin"},
        "bad.csv:2: Initial response time: expected an instant at or after opened "
        "(2026-10-25T03:30:00Z), got 2026-10-25T03:00:00Z",
    ),
    (
        "freshdesk",
        "bad.csv",
        "Ticket,Priority\n1,Low\n",
        {"timezone": "UTC"},
        "bad.csv:1: expected a Freshdesk ticket export with the columns Ticket ID, Created time "
        "and Priority; missing Ticket ID, Created time; the header has: 'Ticket', 'Priority'",
    ),
    (
        "freshdesk",
        "bad.csv",
        "Ticket ID,Priority,Created time\n1,Low,2026-10-25 04:30:00\n",
        {},
        "--timezone: a Freshdesk export has local times without an offset: give --timezone, "
        "the account's time zone (Admin > Helpdesk settings), e.g. Europe/Berlin",
    ),
]


@pytest.mark.parametrize(("fmt", "name", "text", "options", "expected"), BAD)
def test_a_bad_ticket_is_one_located_problem(
    tmp_path: Path, fmt: str, name: str, text: str, options: dict[str, object], expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        read_record_file(path, fmt, **options)  # type: ignore[arg-type]
    assert [str(problem).replace(str(tmp_path) + "/", "") for problem in caught.value.problems] == [
        expected
    ]


def test_zendesk_incremental_pages_listing_a_ticket_twice_keep_its_last_listing(
    tmp_path: Path,
) -> None:
    first = {"id": 9, "created_at": "2026-10-05T09:00:00Z", "priority": "low"}
    later = first | {"priority": "urgent"}
    path = tmp_path / "pages.json"
    path.write_text(
        '[{"tickets": [' + json.dumps(first) + ']},\n {"tickets": [' + json.dumps(later) + "]}]"
    )
    imported = read_record_file(path, "zendesk")
    assert [record_json(record)["severity"] for record in imported.records] == ["urgent"]
    assert imported.lines == [2]
