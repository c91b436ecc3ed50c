"""The live demo's records: seeded, valid, never after ``now``, and settling to a history
the page can show (a slow provisioning stretch that misses its target, then recovers)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from slaledger.core.commitments import calendar_names
from slaledger.core.records import Ddos, Provisioning, Ticket, record_json
from slaledger.core.timebase import US_PER_DAY, parse_instant
from slaledger.demo.history_records import DAYS, history_records
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract
from slaledger.status.commitment_figures import CommitmentFigures, FixedRecords

NOW = parse_instant("2026-12-06T01:30:00Z")
LIVE = Path(__file__).resolve().parents[2] / "examples" / "contracts" / "live-demo.yaml"


def test_seeded_and_never_after_now() -> None:
    records = history_records(NOW)
    assert [record_json(r) for r in records] == [record_json(r) for r in history_records(NOW)]
    kinds = Counter(type(r).__name__ for r in records)
    assert kinds == {"Provisioning": 3550, "Ticket": 177, "Ddos": 39}
    first = NOW // US_PER_DAY * US_PER_DAY - DAYS * US_PER_DAY
    for record in records:
        if isinstance(record, Ticket):
            assert first <= record.opened < NOW
            assert all(response.at < NOW for response in record.responses)
        elif isinstance(record, Ddos):
            assert first <= record.detected <= record.mitigated < NOW
        elif isinstance(record, Provisioning):
            assert first <= record.requested < NOW
            assert record.ready is None or record.ready < NOW


def test_the_page_gets_a_history_with_a_missed_stretch() -> None:
    contract = load_contract(LIVE)
    calendars = {name: calendar_of(contract, name) for name in calendar_names(contract)}
    views = {
        v.id: v
        for v in CommitmentFigures(
            contract, calendars, FixedRecords(tuple(history_records(NOW)))
        ).views(NOW)
    }
    assert list(views) == [
        "support-urgent",
        "support-normal",
        "ddos-mitigation",
        "vps-provisioning",
    ]
    vps = views["vps-provisioning"]
    assert [m.month for m in vps.months] == ["2026-12", "2026-11", "2026-10", "2026-09", "2026-08"]
    assert [(m.month, m.met) for m in vps.months[:3]] == [
        ("2026-12", True),
        ("2026-11", False),
        ("2026-10", True),
    ]
    assert len(vps.days) == 90
    assert any(day.met is False for day in vps.days)
    assert vps.current is not None
    assert vps.current.met is True
