"""The demo's month of records: deterministic, in the semantics file's format, hand-worked.

October 2026 (Thursday 1st to Saturday 31st; Europe/Berlin leaves summer time on Sunday
25th). Every bulk record meets its commitment by construction; the scripted ones are:

itstabyl (uk-office, 09:00-18:00 UTC Mon-Fri, GB-ENG holidays; none in October)
  T-901 P1 opened Wed 7th 17:30, human Thu 09:45: 30 + 45 open minutes, due 09:30, missed.
  T-902 P1 opened Mon 12th 17:15, human Tue 09:15:00: exactly at due, met.
  T-903 P2 opened Tue 20th 14:00, human Wed 10:10: due Tue 18:00, missed.
  T-904 P3 opened Thu 22nd 11:00, human Fri 15:30: 7 h + 2 h, due Fri 11:00, missed.
  T-905 P3 opened Fri 30th 16:00, auto only: due Mon Nov 2nd 16:00, pending at month end.
  P1 6 + 2 = 8 (7 met, 1 missed); P2 14 + 1 = 15 (14 met, 1 missed);
  P3 24 + 2 = 26 (24 met, 1 missed, 1 pending).
hosting-pop
  HD-901 tier-1 (always) Sat 10th 03:12, human 22 min later: missed.
  HD-902 tier-1 Thu 8th 23:41:07, human exactly 15 min later: met.
  HD-903 tier-2 (cet-support) Tue 13th 15:00 CEST, human 19:45: due 19:00, missed.
  HD-904 tier-2 Fri 23rd 20:00 CEST: 2 h that evening, 2 h from Mon 26th 09:00 CET, due
         11:00 CET (10:00 UTC); human 10:40 CET: met.
  HD-905 tier-2 Fri 30th 21:30 CET, auto only: 30 min, then Mon Nov 2nd 09:00-12:30: pending.
  tier-1 12 + 2 = 14 (13 met, 1 missed); tier-2 20 + 3 = 23 (21 met, 1 missed, 1 pending).
  HW-901 diagnosed Wed 14th 16:00 CEST, due 20:00, replaced 21:25: 85 min late, 2 started
         hours; 5 other swaps met: 6 swaps.
  D-901 6.4 Gbps, exactly 2 s: missed; D-902 0.7 Gbps, 3.4 s: not covered; 14 covered and met,
         4 under 1 Gbps: 20 events, 15 covered (14 met, 1 missed), 5 not covered.
  Provisioning: 30 + 31 days of 20-39 requests (1784, 906 of them in October, 16 failed).
  Outage: power at fra, Sun 18th 04:12:00-04:18:30 UTC (6 min 30 s: 7 minutes).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from slaledger.core.commitments import RecordSet, calendar_names, settle_commitments
from slaledger.core.contract import Contract
from slaledger.core.periods import calendar_month
from slaledger.core.timebase import US_PER_MINUTE, format_instant, parse_instant
from slaledger.demo.records import DemoRecords, demo_records
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract
from slaledger.files.records_jsonl import parse_records

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"


def load(name: str) -> Contract:
    return load_contract(EXAMPLES / f"{name}.yaml")


@pytest.fixture(scope="module")
def itstabyl() -> DemoRecords:
    return demo_records(load("itstabyl"), 2026, 10)


@pytest.fixture(scope="module")
def hosting() -> DemoRecords:
    return demo_records(load("hosting-pop"), 2026, 10)


def by_id(records: DemoRecords) -> dict[str, dict[str, Any]]:
    return {str(item["id"]): item for item in records.objects() if "id" in item}


def test_itstabyl_counts(itstabyl: DemoRecords) -> None:
    kinds = Counter((r["kind"], r.get("severity")) for r in itstabyl.objects())
    assert kinds == {("ticket", "P1"): 8, ("ticket", "P2"): 15, ("ticket", "P3"): 26}
    acknowledged = [r for r in itstabyl.objects() if any(x["by"] == "auto" for x in r["responses"])]
    assert len(acknowledged) == 23
    unanswered = [
        r["id"] for r in itstabyl.objects() if all(x["by"] == "auto" for x in r["responses"])
    ]
    assert unanswered == ["T-905"]
    assert len(itstabyl.scripted) == 5


def test_itstabyl_scripted_tickets_exactly(itstabyl: DemoRecords) -> None:
    tickets = by_id(itstabyl)
    assert json.dumps(tickets["T-901"]) == (
        '{"kind": "ticket", "id": "T-901", "customer": "acme", "severity": "P1", '
        '"opened": "2026-10-07T17:30:00Z", "responses": [{"at": "2026-10-07T17:30:04Z", '
        '"by": "auto"}, {"at": "2026-10-08T09:45:00Z", "by": "human"}]}'
    )
    assert tickets["T-902"]["opened"] == "2026-10-12T17:15:00Z"
    assert tickets["T-902"]["responses"] == [{"at": "2026-10-13T09:15:00Z", "by": "human"}]
    assert tickets["T-903"]["responses"][-1] == {"at": "2026-10-21T10:10:00Z", "by": "human"}
    assert tickets["T-904"]["opened"] == "2026-10-22T11:00:00Z"
    assert tickets["T-905"]["opened"] == "2026-10-30T16:00:00Z"


def test_bulk_responses_come_within_their_budget_in_wall_clock_time(
    itstabyl: DemoRecords, hosting: DemoRecords
) -> None:
    """Open time never runs faster than the clock, so these are met whatever the calendar."""
    budget = {"P1": 60, "P2": 240, "P3": 540, "tier-1": 15, "tier-2": 240}
    for record in (*itstabyl.objects(), *hosting.objects()):
        if record["kind"] != "ticket" or str(record["id"]).startswith(("T-9", "HD-9")):
            continue
        human = [parse_instant(r["at"]) for r in record["responses"] if r["by"] == "human"]
        elapsed = human[0] - parse_instant(record["opened"])
        assert 0 < elapsed <= budget[record["severity"]] * US_PER_MINUTE, record


def test_hosting_counts(hosting: DemoRecords) -> None:
    kinds = Counter((r["kind"], r.get("severity")) for r in hosting.objects())
    assert kinds == {
        ("ticket", "tier-1"): 14,
        ("ticket", "tier-2"): 23,
        ("hardware-swap", None): 6,
        ("ddos", None): 20,
        ("provisioning", None): 1784,
        ("outage", None): 1,
    }
    ddos = [r for r in hosting.objects() if r["kind"] == "ddos"]
    covered = [r for r in ddos if float(r["peak_gbps"]) >= 1]
    assert (len(covered), len(ddos) - len(covered)) == (15, 5)
    slow = [r["id"] for r in ddos if elapsed(r, "detected", "mitigated") >= 2_000_000]
    assert slow == ["D-901", "D-902"]
    provisioning = [r for r in hosting.objects() if r["kind"] == "provisioning"]
    assert sum(r["requested"] >= "2026-10-01" for r in provisioning) == 906
    assert provisioning[0]["requested"] >= "2026-09-01T00:00:00Z"
    assert sum(r["failed"] for r in provisioning) == 16
    assert all(("ready" not in r) == r["failed"] for r in provisioning)
    assert len(hosting.scripted) == 9


def test_hosting_scripted_records_exactly(hosting: DemoRecords) -> None:
    records = by_id(hosting)
    assert records["HD-904"] == {
        "kind": "ticket",
        "id": "HD-904",
        "customer": "nordwind-gmbh",
        "severity": "tier-2",
        "opened": "2026-10-23T18:00:00Z",
        "responses": [{"at": "2026-10-26T09:40:00Z", "by": "human"}],
    }
    assert records["HD-905"]["opened"] == "2026-10-30T20:30:00Z"
    assert records["HW-901"] == {
        "kind": "hardware-swap",
        "id": "HW-901",
        "customer": "nordwind-gmbh",
        "location": "fra",
        "diagnosed": "2026-10-14T14:00:00Z",
        "replaced": "2026-10-14T19:25:00Z",
    }
    assert records["D-901"] == {
        "kind": "ddos",
        "id": "D-901",
        "location": "ams",
        "detected": "2026-10-11T02:47:13.42Z",
        "mitigated": "2026-10-11T02:47:15.42Z",
        "peak_gbps": "6.4",
    }
    outage = [r for r in hosting.objects() if r["kind"] == "outage"]
    assert outage == [
        {
            "kind": "outage",
            "service": "power",
            "location": "fra",
            "start": "2026-10-18T04:12:00Z",
            "end": "2026-10-18T04:18:30Z",
            "note": "UPS transfer fault",
        }
    ]


def elapsed(record: dict[str, Any], start: str, end: str) -> int:
    return parse_instant(str(record[end])) - parse_instant(str(record[start]))


def test_bulk_ids_are_numbered_in_time_order(hosting: DemoRecords) -> None:
    swaps = [r["id"] for r in hosting.objects() if r["kind"] == "hardware-swap"]
    assert swaps == ["HW-1001", "HW-1002", "HW-1003", "HW-901", "HW-1004", "HW-1005"]
    ids = [r["id"] for r in hosting.objects() if "id" in r]
    assert len(ids) == len(set(ids))


def test_same_seed_same_file_other_seed_other_bulk(hosting: DemoRecords) -> None:
    contract = load("hosting-pop")
    assert demo_records(contract, 2026, 10).jsonl() == hosting.jsonl()
    other = demo_records(contract, 2026, 10, seed=8)
    assert other.jsonl() != hosting.jsonl()
    assert other.scripted == hosting.scripted


def test_jsonl_is_one_object_a_line(hosting: DemoRecords) -> None:
    lines = hosting.jsonl().splitlines()
    assert len(lines) == len(hosting.records)
    assert [json.loads(line) for line in lines] == hosting.objects()
    assert parse_records(hosting.jsonl(), "records.jsonl") == list(hosting.records)


def test_december_has_the_christmas_ticket() -> None:
    records = demo_records(load("itstabyl"), 2026, 12)
    christmas = by_id(records)["T-906"]
    assert christmas["opened"] == "2026-12-24T17:30:00Z"
    assert christmas["responses"][-1] == {"at": "2026-12-29T09:20:00Z", "by": "human"}
    assert datetime(2026, 12, 24, tzinfo=UTC).strftime("%A") == "Thursday"
    assert "T-906" not in by_id(demo_records(load("itstabyl"), 2026, 11))


def test_heft_io_has_no_records() -> None:
    assert demo_records(load("heft-io"), 2026, 10) == DemoRecords()


def test_the_engine_settles_the_scripted_records_as_worked_out() -> None:
    """The hand-worked outcomes above, by the engine (which lists every item not met):
    October's scripted misses, the pending and the late swap; T-902, HD-902 and HD-904 met;
    in December the Christmas P1 (due Tuesday 12-29 09:30, answered 09:20) met."""
    listed = {}
    counts = {}
    for name, month in (("itstabyl", 10), ("hosting-pop", 10), ("itstabyl", 12)):
        contract = load(name)
        calendars = {c: calendar_of(contract, c) for c in calendar_names(contract)}
        period = calendar_month(2026, month, contract.zone)
        records = RecordSet.of(demo_records(contract, 2026, month).records)
        for result in settle_commitments(contract, calendars, records, period, period.end):
            counts[(month, result.commitment)] = dict(result.counts)
            for item in result.items:
                due = None if item.due is None else format_instant(item.due)
                listed[(month, item.id)] = (due, item.status, item.late_hours)
    october = {key: value for (month, key), value in listed.items() if month == 10}
    assert october == {
        "T-901": ("2026-10-08T09:30:00Z", "missed", None),
        "T-903": ("2026-10-20T18:00:00Z", "missed", None),
        "T-904": ("2026-10-23T11:00:00Z", "missed", None),
        "T-905": ("2026-11-02T16:00:00Z", "pending", None),
        "HD-901": ("2026-10-10T03:27:00Z", "missed", None),
        "HD-903": ("2026-10-13T17:00:00Z", "missed", None),
        "HD-905": ("2026-11-02T11:30:00Z", "pending", None),
        "HW-901": ("2026-10-14T18:00:00Z", "late", 2),
        "D-901": ("2026-10-11T02:47:15.42Z", "missed", None),
        **{key: value for key, value in october.items() if value[1] == "not-covered"},
    }
    assert counts[(10, "support-p1")] == {"met": 7, "missed": 1, "pending": 0, "not-covered": 0}
    assert counts[(10, "support-p3")] == {"met": 24, "missed": 1, "pending": 1, "not-covered": 0}
    assert counts[(10, "support-tier2")] == {
        "met": 21,
        "missed": 1,
        "pending": 1,
        "not-covered": 0,
    }
    assert counts[(10, "ddos-mitigation")] == {
        "met": 14,
        "missed": 1,
        "pending": 0,
        "not-covered": 5,
    }
    assert counts[(12, "support-p1")]["missed"] == 1  # T-901, scripted every month
    assert (12, "T-906") not in listed
