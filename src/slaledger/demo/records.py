"""A deterministic month of commitment records for the example contracts: pure, seeded.

The records are the JSON Lines objects of the settlement semantics (``ticket``,
``hardware-swap``, ``ddos``, ``provisioning``, ``outage``), as a helpdesk export, a
datacenter's swap log, the DDoS appliance and the provisioning service would hand them over.

Each month has a seeded bulk of ordinary records that meet their commitment by
construction (a response within the commitment's budget in wall-clock time is always in
time, since open time never runs faster than the clock) and a few scripted ones whose fate
is worked out by hand in ``tests/demo/test_records.py``: a missed response, a reply at
exactly its due instant, tickets still waiting at month end, a late hardware swap, a DDoS
activation of exactly 2 s, a power fault no probe saw. Scripted records are placed on
weekdays found in the month, so any month gets them; the hand-worked figures are October
2026's (the demo's default). December also gets Itstabyl's Christmas ticket.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from slaledger.core.contract import Contract
from slaledger.core.periods import calendar_month
from slaledger.core.records import RECORD_ADAPTER, AnyRecord, record_json
from slaledger.core.timebase import (
    US_PER_DAY,
    US_PER_MINUTE,
    US_PER_SECOND,
    format_instant,
    from_instant,
    to_instant,
)

Record = dict[str, Any]
"""One record as its JSON object, as generated (validated into a record model after)."""

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
MON, TUE, WED, THU, FRI, SAT = range(6)

PROVISIONING_WINDOW_DAYS = 30
"""Provisioning records start this long before the month: its first day's trailing window."""

HOSTING_POPS = ("fra", "ams", "lon")
ITSTABYL_CUSTOMERS = ("acme", "borealis-labs", "cobalt-health", "dunmore-retail", "eastgate")
HOSTING_CUSTOMERS = ("nordwind-gmbh", "kesselhaus", "lumen-media", "parkbank", "tessera-ai")


@dataclass(frozen=True)
class DemoRecords:
    """A month's records in file order, and one human line per scripted record."""

    records: tuple[AnyRecord, ...] = ()
    scripted: tuple[str, ...] = ()

    def objects(self) -> list[Record]:
        """The records as their JSON objects."""
        return [record_json(record) for record in self.records]

    def jsonl(self) -> str:
        """The records as JSON Lines: one object a line."""
        return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in self.objects())


@dataclass
class _Month:
    """The month being generated: its days, a seeded generator and the records so far."""

    year: int
    month: int
    start: int
    end: int
    rng: np.random.Generator
    records: list[tuple[int, Record]] = field(default_factory=list)
    scripted: list[tuple[int, str]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    bulk: dict[str, str] = field(default_factory=dict)

    def next_id(self, prefix: str, first: int = 1001) -> str:
        """A placeholder id for a bulk record, numbered in time order once all are made."""
        self.counters.setdefault(prefix, first)
        ident = f"{prefix}?{len(self.bulk)}"
        self.bulk[ident] = prefix
        return ident

    def numbered(self) -> list[Record]:
        """The records in time order, bulk ids numbered in that order per prefix."""
        ordered = [record for _, record in sorted(self.records, key=lambda pair: pair[0])]
        for record in ordered:
            prefix = self.bulk.get(record.get("id", ""))
            if prefix is not None:
                record["id"] = f"{prefix}{self.counters[prefix]}"
                self.counters[prefix] += 1
        return ordered

    def add(self, at: int, record: Record, note: str | None = None) -> None:
        self.records.append((at, record))
        if note is not None:
            self.scripted.append((at, note))

    @property
    def days(self) -> int:
        return (self.end - self.start) // US_PER_DAY

    def day_on_or_after(self, day: int, weekday: int) -> date:
        """The first ``weekday`` on or after the ``day``-th of the month."""
        first = date(self.year, self.month, day)
        return first + timedelta(days=(weekday - first.weekday()) % 7)

    def last_weekday(self) -> date:
        """The month's last Monday-to-Friday date."""
        last = from_instant(self.end - 1).date()
        while last.weekday() > FRI:
            last -= timedelta(days=1)
        return last

    def weekdays(self) -> list[date]:
        """The month's Monday-to-Friday dates."""
        first = date(self.year, self.month, 1)
        every = (first + timedelta(days=n) for n in range(self.days))
        return [day for day in every if day.weekday() <= FRI]

    def random_weekday_instant(self, zone: ZoneInfo, first_hour: int, last_hour: int) -> int:
        """A random instant on a weekday of the month, between the local hours given."""
        days = self.weekdays()
        day = days[int(self.rng.integers(len(days)))]
        seconds = int(self.rng.integers(first_hour * 3600, last_hour * 3600))
        return wall(day, 0, 0, zone) + seconds * US_PER_SECOND

    def random_instant(self) -> int:
        return self.start + int(self.rng.integers(0, self.end - self.start)) // US_PER_SECOND * (
            US_PER_SECOND
        )


def wall(day: date, hour: int, minute: int, zone: ZoneInfo, second: int = 0) -> int:
    """The instant of a wall-clock time on a local date."""
    return to_instant(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone))


def demo_records(contract: Contract, year: int, month: int, seed: int = 7) -> DemoRecords:
    """The records of ``year``-``month`` for a known example contract; none for others."""
    script = _SCRIPTS.get(contract.contract)
    if script is None:
        return DemoRecords()
    period = calendar_month(year, month, contract.zone)
    state = _Month(year, month, period.start, period.end, np.random.default_rng(seed))
    script(state)
    notes = sorted(state.scripted, key=lambda pair: pair[0])
    return DemoRecords(
        records=tuple(RECORD_ADAPTER.validate_python(item) for item in state.numbered()),
        scripted=tuple(note for _, note in notes),
    )


# --- Records ------------------------------------------------------------------------------


def ticket(
    ident: str,
    customer: str,
    severity: str,
    opened: int,
    *,
    auto: int | None = None,
    human: int | None = None,
) -> Record:
    """A ticket: an auto-acknowledgement and a human reply, each optional."""
    responses = []
    if auto is not None:
        responses.append({"at": format_instant(auto), "by": "auto"})
    if human is not None:
        responses.append({"at": format_instant(human), "by": "human"})
    return {
        "kind": "ticket",
        "id": ident,
        "customer": customer,
        "severity": severity,
        "opened": format_instant(opened),
        "responses": responses,
    }


def _bulk_tickets(
    state: _Month,
    *,
    prefix: str,
    customers: tuple[str, ...],
    severity: str,
    count: int,
    budget_minutes: int,
    opened: Callable[[], int],
) -> None:
    """``count`` tickets answered by a human within ``budget_minutes`` of wall-clock time
    (always in time); about half acknowledged automatically first."""
    for _ in range(count):
        at = opened()
        customer = customers[int(state.rng.integers(len(customers)))]
        auto = at + int(state.rng.integers(3, 40)) * US_PER_SECOND
        minutes = int(state.rng.integers(2, max(3, budget_minutes * 4 // 5)))
        human = at + minutes * US_PER_MINUTE + int(state.rng.integers(60)) * US_PER_SECOND
        acknowledged = bool(state.rng.random() < 0.5)
        record = ticket(
            state.next_id(prefix),
            customer,
            severity,
            at,
            auto=auto if acknowledged else None,
            human=human,
        )
        state.add(at, record)


def _when(instant: int, zone: ZoneInfo = UTC) -> str:
    local = from_instant(instant).astimezone(zone)
    label = local.tzname() or zone.key
    return f"{local:%a %Y-%m-%d %H:%M:%S} {label}"


# --- Itstabyl: support first response in uk-office hours ----------------------------------


def _itstabyl(state: _Month) -> None:
    office = state.random_weekday_instant
    for severity, count, minutes in (("P1", 6, 60), ("P2", 14, 240), ("P3", 24, 540)):
        _bulk_tickets(
            state,
            prefix="T-",
            customers=ITSTABYL_CUSTOMERS,
            severity=severity,
            count=count,
            budget_minutes=minutes,
            opened=lambda: office(UTC, 9, 17),
        )
    utc = UTC
    wednesday = state.day_on_or_after(6, WED)
    opened = wall(wednesday, 17, 30, utc)
    human = wall(wednesday + timedelta(days=1), 9, 45, utc)
    state.add(
        opened,
        ticket("T-901", "acme", "P1", opened, auto=opened + 4 * US_PER_SECOND, human=human),
        f"P1 T-901 opened {_when(opened)}, acknowledged automatically 4 s later, first human "
        f"reply {_when(human)}: 30 open minutes that evening and 45 the next morning, over "
        "the 1 business hour (due 09:30): missed",
    )
    monday = state.day_on_or_after(11, MON)
    opened = wall(monday, 17, 15, utc)
    human = wall(monday + timedelta(days=1), 9, 15, utc)
    state.add(
        opened,
        ticket("T-902", "borealis-labs", "P1", opened, human=human),
        f"P1 T-902 opened {_when(opened)}, human reply {_when(human)}: exactly at its due "
        "instant (45 + 15 open minutes): met",
    )
    tuesday = state.day_on_or_after(19, TUE)
    opened = wall(tuesday, 14, 0, utc)
    human = wall(tuesday + timedelta(days=1), 10, 10, utc)
    state.add(
        opened,
        ticket(
            "T-903", "cobalt-health", "P2", opened, auto=opened + 9 * US_PER_SECOND, human=human
        ),
        f"P2 T-903 opened {_when(opened)}, human reply {_when(human)}: due 18:00 the same "
        "day (4 business hours): missed",
    )
    thursday = state.day_on_or_after(21, THU)
    opened = wall(thursday, 11, 0, utc)
    human = wall(thursday + timedelta(days=1), 15, 30, utc)
    state.add(
        opened,
        ticket("T-904", "dunmore-retail", "P3", opened, human=human),
        f"P3 T-904 opened {_when(opened)}, human reply {_when(human)}: due 11:00 the next "
        "day (1 business day = 9 business hours): missed",
    )
    last = state.last_weekday()
    opened = wall(last, 16, 0, utc)
    state.add(
        opened,
        ticket("T-905", "eastgate", "P3", opened, auto=opened + 6 * US_PER_SECOND),
        f"P3 T-905 opened {_when(opened)}, acknowledged automatically, no human reply yet: "
        "2 open hours left that day, due on the next business day at 16:00: pending at "
        "month end",
    )
    if state.month == 12 and state.days >= 29:
        opened = wall(date(state.year, 12, 24), 17, 30, utc)
        human = wall(date(state.year, 12, 29), 9, 20, utc)
        state.add(
            opened,
            ticket("T-906", "acme", "P1", opened, auto=opened + 5 * US_PER_SECOND, human=human),
            f"P1 T-906 opened {_when(opened)} (Christmas Eve), human reply {_when(human)}: "
            "Christmas, the weekend and Boxing Day's substitute holiday are closed, so "
            "the 30 minutes left that evening run on at the next opening: met",
        )


# --- Hosting: support tiers, hardware swaps, DDoS, provisioning, a power fault --------------


def _hosting(state: _Month) -> None:
    _hosting_tickets(state)
    _hardware_swaps(state)
    _ddos(state)
    _provisioning(state)
    day = date(state.year, state.month, 18)
    start = wall(day, 4, 12, UTC)
    end = start + 6 * US_PER_MINUTE + 30 * US_PER_SECOND
    state.add(
        start,
        {
            "kind": "outage",
            "service": "power",
            "location": "fra",
            "start": format_instant(start),
            "end": format_instant(end),
            "note": "UPS transfer fault",
        },
        f"power at fra: a UPS transfer fault from {_when(start)} to {_when(end)}, seen by no "
        "probe and recorded by the operator: 6 min 30 s, 7 minutes of power downtime",
    )


def _hosting_tickets(state: _Month) -> None:
    _bulk_tickets(
        state,
        prefix="HD-",
        customers=HOSTING_CUSTOMERS,
        severity="tier-1",
        count=12,
        budget_minutes=15,
        opened=state.random_instant,
    )
    _bulk_tickets(
        state,
        prefix="HD-",
        customers=HOSTING_CUSTOMERS,
        severity="tier-2",
        count=20,
        budget_minutes=240,
        opened=lambda: state.random_weekday_instant(BERLIN, 9, 18),
    )
    saturday = state.day_on_or_after(9, SAT)
    opened = wall(saturday, 3, 12, UTC)
    human = opened + 22 * US_PER_MINUTE
    state.add(
        opened,
        ticket(
            "HD-901", "kesselhaus", "tier-1", opened, auto=opened + 6 * US_PER_SECOND, human=human
        ),
        f"tier-1 HD-901 (an outage) opened {_when(opened)}, acknowledged automatically, first "
        "human reply 22 minutes later: over the 15 minutes (24/7): missed",
    )
    opened = wall(state.day_on_or_after(5, THU), 23, 41, UTC, 7)
    human = opened + 15 * US_PER_MINUTE
    state.add(
        opened,
        ticket("HD-902", "parkbank", "tier-1", opened, human=human),
        f"tier-1 HD-902 opened {_when(opened)}, human reply exactly 15 minutes later: met",
    )
    tuesday = state.day_on_or_after(13, TUE)
    opened = wall(tuesday, 15, 0, BERLIN)
    human = wall(tuesday, 19, 45, BERLIN)
    state.add(
        opened,
        ticket(
            "HD-903", "lumen-media", "tier-2", opened, auto=opened + 8 * US_PER_SECOND, human=human
        ),
        f"tier-2 HD-903 opened {_when(opened, BERLIN)}, human reply {_when(human, BERLIN)}: "
        "due 19:00 (4 business hours): missed",
    )
    # The Friday before the month's last Sunday: in October, before the change to winter time.
    last_sunday = from_instant(state.end - 1).date()
    while last_sunday.weekday() != 6:
        last_sunday -= timedelta(days=1)
    friday = last_sunday - timedelta(days=2)
    monday = last_sunday + timedelta(days=1)
    opened = wall(friday, 20, 0, BERLIN)
    human = wall(monday, 10, 40, BERLIN)
    state.add(
        opened,
        ticket("HD-904", "nordwind-gmbh", "tier-2", opened, human=human),
        f"tier-2 HD-904 opened {_when(opened, BERLIN)}: 2 business hours that evening, 2 on "
        f"Monday from 09:00 (due 11:00 Berlin time, after the clocks went back); human "
        f"reply {_when(human, BERLIN)}: met",
    )
    last = state.last_weekday()
    opened = wall(last, 21, 30, BERLIN)
    state.add(
        opened,
        ticket("HD-905", "tessera-ai", "tier-2", opened, auto=opened + 5 * US_PER_SECOND),
        f"tier-2 HD-905 opened {_when(opened, BERLIN)}, acknowledged automatically, no human "
        "reply yet: 30 business minutes that evening, due at 12:30 on the next business "
        "day: pending at month end",
    )


def swap(ident: str, customer: str, location: str, diagnosed: int, replaced: int) -> Record:
    return {
        "kind": "hardware-swap",
        "id": ident,
        "customer": customer,
        "location": location,
        "diagnosed": format_instant(diagnosed),
        "replaced": format_instant(replaced),
    }


def _hardware_swaps(state: _Month) -> None:
    """Five swaps well inside 4 business hours, one late."""
    for _ in range(5):
        diagnosed = state.random_weekday_instant(BERLIN, 9, 17)
        replaced = diagnosed + int(state.rng.integers(35, 200)) * US_PER_MINUTE
        customer = HOSTING_CUSTOMERS[int(state.rng.integers(len(HOSTING_CUSTOMERS)))]
        location = HOSTING_POPS[int(state.rng.integers(len(HOSTING_POPS)))]
        state.add(replaced, swap(state.next_id("HW-"), customer, location, diagnosed, replaced))
    wednesday = state.day_on_or_after(14, WED)
    diagnosed = wall(wednesday, 16, 0, BERLIN)
    replaced = wall(wednesday, 21, 25, BERLIN)
    state.add(
        replaced,
        swap("HW-901", "nordwind-gmbh", "fra", diagnosed, replaced),
        f"hardware swap HW-901 at fra diagnosed {_when(diagnosed, BERLIN)}, online again "
        f"{_when(replaced, BERLIN)}: due 20:00 (4 business hours), 1 h 25 min late, "
        "2 started hours: 2 days of base fee",
    )


def ddos(ident: str, location: str, detected: int, activation: int, peak: str) -> Record:
    return {
        "kind": "ddos",
        "id": ident,
        "location": location,
        "detected": format_instant(detected),
        "mitigated": format_instant(detected + activation),
        "peak_gbps": peak,
    }


def _ddos(state: _Month) -> None:
    """14 covered attacks mitigated in time, 4 under 1 Gbps, and two scripted ones."""
    for covered, count in ((True, 14), (False, 4)):
        for _ in range(count):
            detected = state.random_instant() + int(state.rng.integers(1000)) * 1000
            activation = int(state.rng.integers(300, 1900)) * 1000  # milliseconds
            tenths = int(state.rng.integers(12, 400)) if covered else int(state.rng.integers(2, 10))
            location = HOSTING_POPS[int(state.rng.integers(len(HOSTING_POPS)))]
            peak = f"{tenths // 10}.{tenths % 10}"
            state.add(detected, ddos(state.next_id("D-"), location, detected, activation, peak))
    detected = wall(date(state.year, state.month, 11), 2, 47, UTC, 13) + 420_000
    state.add(
        detected,
        ddos("D-901", "ams", detected, 2 * US_PER_SECOND, "6.4"),
        f"DDoS D-901 at ams, {_when(detected)}, 6.4 Gbps: mitigation active after exactly "
        "2 s, not under 2 s: missed",
    )
    detected = wall(date(state.year, state.month, 26), 19, 3, UTC, 50)
    state.add(
        detected,
        ddos("D-902", "lon", detected, 3_400_000, "0.7"),
        f"DDoS D-902 at lon, {_when(detected)}, 0.7 Gbps, mitigated after 3.4 s: under "
        "1 Gbps, not covered",
    )


def _provisioning(state: _Month) -> None:
    """From 30 days before the month to its end: 20-39 requests a day, median about a
    minute, about one in a hundred failed; requests of the last minutes are still running
    at month end."""
    first = state.start - PROVISIONING_WINDOW_DAYS * US_PER_DAY
    days = PROVISIONING_WINDOW_DAYS + state.days
    counts = state.rng.integers(20, 40, size=days)
    for day, count in enumerate(counts.tolist()):
        offsets = np.sort(state.rng.integers(0, US_PER_DAY // US_PER_SECOND, size=count))
        seconds = np.exp(state.rng.normal(np.log(62.0), 0.3, size=count))
        failed = state.rng.random(count) < 0.01
        pops = state.rng.integers(len(HOSTING_POPS), size=count)
        for offset, took, fail, pop in zip(
            offsets.tolist(), seconds.tolist(), failed.tolist(), pops.tolist(), strict=True
        ):
            requested = first + day * US_PER_DAY + offset * US_PER_SECOND
            ready = None if fail else requested + round(took * 1000) * 1000
            record = {
                "kind": "provisioning",
                "id": state.next_id("vps-", 20001),
                "location": HOSTING_POPS[pop],
                "requested": format_instant(requested),
                "ready": None if ready is None else format_instant(ready),
                "failed": fail,
            }
            state.add(requested, record)


_SCRIPTS: dict[str, Callable[[_Month], None]] = {"itstabyl": _itstabyl, "hosting-pop": _hosting}
