"""The published commitment figures: the demo month's records settled by the engine, counts
and figures only, month by month; the provisioning series of the last 90 days.

The expected counts are those worked out by hand in ``tests/demo/test_records.py``.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import pytest

from slaledger.app import Root, Settings
from slaledger.core.commitment_publication import CommitmentMonth, CommitmentView
from slaledger.core.commitments import calendar_names
from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.records import AnyRecord, Response, Ticket
from slaledger.core.timebase import parse_instant
from slaledger.demo.records import demo_records
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract
from slaledger.status.commitment_figures import CommitmentFigures, FixedRecords
from slaledger.store.database import connect, migrate
from slaledger.store.record_store import RecordStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"
NOV_15 = parse_instant("2026-11-15T12:00:00Z")


def figures(name: str, records: tuple[AnyRecord, ...] | None = None) -> CommitmentFigures:
    contract = load_contract(EXAMPLES / f"{name}.yaml")
    if records is None:
        records = demo_records(contract, 2026, 10).records
    return CommitmentFigures(contract, calendars(contract), FixedRecords(records))


def calendars(contract: Contract) -> dict[str, object]:
    return {name: calendar_of(contract, name) for name in calendar_names(contract)}


def by_id(views: tuple[CommitmentView, ...]) -> dict[str, CommitmentView]:
    return {view.id: view for view in views}


def october(view: CommitmentView) -> CommitmentMonth:
    return next(month for month in view.months if month.month == "2026-10")


def test_itstabyl_october_per_severity() -> None:
    views = by_id(figures("itstabyl").views(NOV_15))
    assert list(views) == ["support-p1", "support-p2", "support-p3"]
    assert [m.month for m in views["support-p1"].months] == ["2026-11", "2026-10"]
    assert dict(october(views["support-p1"]).counts) == {
        "met": 7,
        "missed": 1,
        "pending": 0,
        "not-covered": 0,
    }
    assert dict(october(views["support-p2"]).counts)["missed"] == 1
    # T-905 was pending when October ended; on November 15th it is overdue (due Nov 2nd).
    p3 = october(views["support-p3"])
    assert (p3.counts["met"], p3.counts["missed"], p3.counts["pending"]) == (24, 2, 0)
    assert p3.met is False
    assert p3.settled
    at_end = by_id(figures("itstabyl").views(parse_instant("2026-11-01T00:00:00Z")))
    end_p3 = october(at_end["support-p3"])
    assert (end_p3.counts["missed"], end_p3.counts["pending"]) == (1, 1)
    assert views["support-p3"].promise == "first human response within 1bd (uk-office hours)"
    assert views["support-p1"].months[0] == CommitmentMonth(
        month="2026-11",
        met=None,
        counts={"met": 0, "missed": 0, "pending": 0, "not-covered": 0},
        settled=False,
    )


def test_hosting_october() -> None:
    views = by_id(figures("hosting-pop").views(NOV_15))
    assert list(views) == [
        "support-tier1",
        "support-tier2",
        "hardware-swap",
        "ddos-mitigation",
        "vps-provisioning",
    ]
    assert october(views["support-tier1"]).counts["missed"] == 1
    tier2 = october(views["support-tier2"])
    assert (tier2.counts["met"], tier2.counts["missed"], tier2.counts["pending"]) == (21, 2, 0)
    swaps = october(views["hardware-swap"])
    assert (swaps.counts["met"], swaps.counts["late"], swaps.late_hours) == (5, 1, 2)
    ddos = october(views["ddos-mitigation"])
    assert dict(ddos.counts) == {"met": 14, "missed": 1, "pending": 0, "not-covered": 5}
    assert views["ddos-mitigation"].below_seconds == Decimal(2)
    assert views["ddos-mitigation"].min_peak_gbps == Decimal(1)
    vps = views["vps-provisioning"]
    assert [m.month for m in vps.months] == ["2026-11", "2026-10", "2026-09"]
    assert (october(vps).judged_days, october(vps).met_days, october(vps).met) == (31, 31, True)
    assert vps.promise == "median under 90s over a trailing 30d"
    assert (vps.statistic, vps.window_days, vps.below_seconds) == ("median", 30, Decimal(90))


def test_provisioning_series_has_90_days_ending_yesterday_and_a_value_now() -> None:
    vps = by_id(figures("hosting-pop").views(NOV_15))["vps-provisioning"]
    assert len(vps.days) == 90
    assert (vps.days[0].day, vps.days[-1].day) == ("2026-08-17", "2026-11-14")
    assert vps.days[-1].at == parse_instant("2026-11-15T00:00:00Z")
    judged = [day for day in vps.days if day.met is not None]
    assert len(judged) == 75  # from the end of Sep 1st (records start that day)
    assert vps.current is not None
    assert vps.current.at == NOV_15
    assert vps.current.day == "2026-11-15"
    assert vps.current.met is True
    assert vps.current.value_seconds is not None
    assert vps.current.value_seconds < 90


def test_no_ticket_id_or_customer_in_any_view() -> None:
    text = repr([asdict(view) for view in figures("hosting-pop").views(NOV_15)])
    text += repr([asdict(view) for view in figures("itstabyl").views(NOV_15)])
    for secret in ("T-901", "HD-9", "HW-", "D-90", "vps-2", "acme", "nordwind", "kesselhaus"):
        assert secret not in text


def test_no_records_no_months_and_no_chart_values() -> None:
    views = by_id(figures("hosting-pop", records=()).views(NOV_15))
    assert all(view.months == () for view in views.values())
    vps = views["vps-provisioning"]
    assert len(vps.days) == 90
    assert all(day.value_seconds is None and day.met is None for day in vps.days)


def test_a_contract_without_commitments_publishes_none() -> None:
    assert figures("heft-io", records=()).views(NOV_15) == ()


@pytest.mark.parametrize("now", ["2026-10-31T23:59:59Z", "2026-11-01T00:00:00Z"])
def test_months_that_ended_are_settled_only_once_over(now: str) -> None:
    views = by_id(figures("hosting-pop").views(parse_instant(now)))
    october_over = now.startswith("2026-11")
    assert october(views["hardware-swap"]).settled is october_over


def test_the_servers_publisher_reads_the_records_store_and_follows_its_changes(
    tmp_path: Path,
) -> None:
    """What `slaledger serve` runs: the publisher built for the server reads the records
    `slaledger records import` stored, and a ticket's later version (its human reply)
    changes the published counts at the next snapshot."""
    contract = load_contract(EXAMPLES / "itstabyl.yaml")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate(connect(url))
    records = demo_records(contract, 2026, 10).records
    store = RecordStore(connect(url))
    store.store(contract.contract, records, now=NOV_15 - 3600_000_000, actor="test")
    root = Root(Settings(db_url=url, public_url="http://status.test"), clock=lambda: NOV_15)
    publisher = root.publisher(contract, Events(), root.site(contract))
    at_start = by_id(publisher.tick(parse_instant("2026-11-01T00:00:00Z")).commitments)
    assert dict(october(at_start["support-p3"]).counts) == {
        "met": 24,
        "missed": 1,
        "pending": 1,
        "not-covered": 0,
    }
    waiting = next(r for r in records if isinstance(r, Ticket) and r.id == "T-905")
    answered = waiting.model_copy(
        update={
            "responses": (
                *waiting.responses,
                Response.model_validate({"at": "2026-11-02T15:00:00Z", "by": "human"}),
            )
        }
    )
    store.store(contract.contract, [answered], now=NOV_15, actor="test")
    later = by_id(publisher.tick(NOV_15).commitments)
    assert dict(october(later["support-p3"]).counts) == {
        "met": 25,
        "missed": 1,
        "pending": 0,
        "not-covered": 0,
    }
