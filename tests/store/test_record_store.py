"""The record store on SQLite and PostgreSQL: idempotent batches, later versions replacing
earlier ones with an audit entry, and what a month's settlement reads back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import CONTRACTS
from slaledger.core.commitments import calendar_names
from slaledger.core.records import RECORD_ADAPTER, AnyRecord
from slaledger.core.timebase import parse_instant
from slaledger.demo.records import demo_records
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract
from slaledger.status.commitment_figures import CommitmentFigures, FixedRecords
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import connect, migrate
from slaledger.store.record_store import RecordStore, StoredRecords, StoreOutcome

NOW = parse_instant("2026-11-02T08:00:00Z")


def rec(value: dict[str, Any]) -> AnyRecord:
    return RECORD_ADAPTER.validate_python(value)


TICKET = {
    "kind": "ticket",
    "id": "T-1",
    "customer": "acme",
    "severity": "P1",
    "opened": "2026-10-05T09:00:00Z",
    "responses": [{"at": "2026-10-05T09:01:00Z", "by": "auto"}],
}
ANSWERED = TICKET | {
    "responses": [
        {"at": "2026-10-05T09:01:00Z", "by": "auto"},
        {"at": "2026-10-05T09:40:00Z", "by": "human"},
    ]
}
SWAP_OPEN = {
    "kind": "hardware-swap",
    "id": "HW-7",
    "customer": "acme",
    "location": "fra1",
    "diagnosed": "2026-09-20T10:00:00Z",
}
OUTAGE = {
    "kind": "outage",
    "service": "power",
    "location": "fra1",
    "start": "2026-10-10T01:00:00Z",
    "end": "2026-10-10T01:20:00Z",
    "note": "UPS transfer fault",
}
CLAIM = {
    "kind": "claim",
    "customer": "acme",
    "month": "2026-09",
    "received": "2026-10-03T12:00:00Z",
}
OLD_TICKET = TICKET | {"id": "T-0", "opened": "2026-08-01T09:00:00Z", "responses": []}


@pytest.fixture
def stores(store_url: str) -> Iterator[tuple[RecordStore, AuditLog]]:
    engine = connect(store_url)
    migrate(engine)
    yield RecordStore(engine), AuditLog(engine)
    engine.dispose()


def test_storing_the_same_batch_twice_changes_nothing(
    stores: tuple[RecordStore, AuditLog],
) -> None:
    store, audit = stores
    batch = [rec(r) for r in (TICKET, SWAP_OPEN, OUTAGE, CLAIM)]
    assert store.store("hosting", batch, now=NOW, actor="ops") == StoreOutcome(4, 0, 0)
    assert store.store("hosting", batch, now=NOW + 1, actor="ops") == StoreOutcome(0, 0, 4)
    assert store.version("hosting", "ticket", "T-1") == 1
    assert audit.entries() == []


def test_a_later_version_replaces_the_record_and_is_audited(
    stores: tuple[RecordStore, AuditLog],
) -> None:
    store, audit = stores
    store.store("hosting", [rec(TICKET), rec(CLAIM)], now=NOW, actor="ops")
    outcome = store.store("hosting", [rec(ANSWERED), rec(CLAIM)], now=NOW + 5, actor="alice")
    assert outcome == StoreOutcome(new=0, replaced=1, unchanged=1)
    assert store.version("hosting", "ticket", "T-1") == 2
    (entry,) = audit.entries()
    assert (entry.actor, entry.action, entry.subject, entry.at) == (
        "alice",
        "record.replace",
        "record",
        NOW + 5,
    )
    assert entry.before == {
        "contract": "hosting",
        "version": 1,
        "record": {
            "kind": "ticket",
            "id": "T-1",
            "customer": "acme",
            "severity": "P1",
            "opened": "2026-10-05T09:00:00Z",
            "responses": [{"at": "2026-10-05T09:01:00Z", "by": "auto"}],
        },
    }
    assert entry.after is not None
    assert entry.after["version"] == 2
    assert entry.after["record"]["responses"][1] == {"at": "2026-10-05T09:40:00Z", "by": "human"}


def test_records_are_kept_per_contract(stores: tuple[RecordStore, AuditLog]) -> None:
    store, _ = stores
    store.store("hosting", [rec(TICKET)], now=NOW, actor="ops")
    assert store.store("itstabyl", [rec(ANSWERED)], now=NOW, actor="ops") == StoreOutcome(1, 0, 0)
    assert store.version("hosting", "ticket", "T-1") == 1


def test_a_month_reads_the_records_that_meet_it(stores: tuple[RecordStore, AuditLog]) -> None:
    store, _ = stores
    store.store(
        "hosting",
        [rec(r) for r in (OLD_TICKET, TICKET, SWAP_OPEN, OUTAGE, CLAIM)],
        now=NOW,
        actor="ops",
    )
    october = (parse_instant("2026-10-01T00:00:00Z"), parse_instant("2026-11-01T00:00:00Z"))
    found = store.records("hosting", *october)
    assert [(r.kind, r.id) for r in found] == [
        ("claim", None),
        ("hardware-swap", "HW-7"),
        ("ticket", "T-1"),
        ("outage", None),
    ]
    assert found[1] == rec(SWAP_OPEN)
    august = (parse_instant("2026-08-01T00:00:00Z"), parse_instant("2026-09-01T00:00:00Z"))
    assert [(r.kind, r.id) for r in store.records("hosting", *august)] == [
        ("claim", None),
        ("ticket", "T-0"),
    ]


def test_the_stamp_changes_with_every_store_or_replacement(
    stores: tuple[RecordStore, AuditLog],
) -> None:
    store, _ = stores
    assert store.stamp("hosting") == (0, 0, 0)
    store.store("hosting", [rec(TICKET)], now=NOW, actor="ops")
    first = store.stamp("hosting")
    store.store("hosting", [rec(TICKET)], now=NOW + 1, actor="ops")
    assert store.stamp("hosting") == first
    store.store("hosting", [rec(ANSWERED)], now=NOW, actor="ops")
    assert store.stamp("hosting") == (1, 2, NOW)
    assert first == (1, 1, NOW)


def test_the_publisher_settles_stored_records_as_it_settles_the_same_records_in_memory(
    stores: tuple[RecordStore, AuditLog],
) -> None:
    store, _ = stores
    contract = load_contract(CONTRACTS / "itstabyl.yaml")
    records = demo_records(contract, 2026, 10).records
    store.store(contract.contract, records, now=NOW, actor="demo")
    calendars = {name: calendar_of(contract, name) for name in calendar_names(contract)}
    stored = CommitmentFigures(contract, calendars, StoredRecords(store, contract.contract))
    fixed = CommitmentFigures(contract, calendars, FixedRecords(records))
    at = parse_instant("2026-11-15T12:00:00Z")
    assert stored.views(at) == fixed.views(at)
    assert stored.views(at)
