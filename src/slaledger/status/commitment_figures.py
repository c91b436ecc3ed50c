"""The published figures of the commitments beyond uptime, from the stored records.

Each month from the first record's to the current one is settled by the engine
(:func:`~slaledger.core.commitments.settle_commitments`), judged at ``now``: a ticket still
unanswered when its month ended is ``pending`` until it is due and ``missed`` after, on the
page as in a report run today (the month's statement keeps the figure judged at its end).
Only counts and figures are kept (:mod:`slaledger.core.commitment_publication`). A
percentile commitment also gets its value at the end of each of the last 90 days and over
the window ending now.

A month that is over and has nothing pending does not change unless the records do: it is
kept until the source's stamp changes, so a snapshot a minute settles little more than the
month to date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from slaledger.core.business_calendar import BusinessCalendar
from slaledger.core.commitment_publication import (
    CHART_DAYS,
    CommitmentMonth,
    CommitmentView,
    commitment_day,
    commitment_view,
    month_figure,
)
from slaledger.core.commitment_spec import Percentile
from slaledger.core.commitments import RecordSet, settle_commitments
from slaledger.core.contract import Contract
from slaledger.core.percentile import daily_series, day_results, provisioning_arrays
from slaledger.core.periods import calendar_month
from slaledger.core.records import (
    AnyRecord,
    Ddos,
    HardwareSwap,
    Provisioning,
    Ticket,
)
from slaledger.status.figures_job import Month, month_of, month_text, months_between

PUBLIC_MONTHS = 60
"""Months of commitment history published (the seed keeps 5 years public)."""


class RecordSource(Protocol):
    """Where the records come from: the records store, or a fixed list."""

    def stamp(self) -> object:
        """Changes whenever the records do."""
        ...

    def records(self) -> Iterable[AnyRecord]: ...


@dataclass(frozen=True)
class FixedRecords:
    """Records held in memory (a records file, a test): their stamp never changes."""

    items: tuple[AnyRecord, ...]

    def stamp(self) -> object:
        return len(self.items)

    def records(self) -> Iterable[AnyRecord]:
        return self.items


def record_month(record: AnyRecord, contract: Contract) -> Month | None:
    """The month a record first counts in (tickets by opening, swaps by diagnosis, events
    and requests by their start); ``None`` for records no commitment reads."""
    if isinstance(record, Ticket):
        return month_of(record.opened, contract)
    if isinstance(record, HardwareSwap):
        return month_of(record.diagnosed, contract)
    if isinstance(record, Ddos):
        return month_of(record.detected, contract)
    if isinstance(record, Provisioning):
        return month_of(record.requested, contract)
    return None


class CommitmentFigures:
    """The commitments' views at any instant, from ``source``'s records."""

    def __init__(
        self,
        contract: Contract,
        calendars: Mapping[str, BusinessCalendar],
        source: RecordSource,
    ) -> None:
        self._contract = contract
        self._calendars = calendars
        self._source = source
        self._stamp: object = None
        self._records: RecordSet | None = None
        self._first: Month | None = None
        self._closed: dict[Month, dict[str, CommitmentMonth]] = {}

    def _load(self) -> RecordSet:
        stamp = self._source.stamp()
        if self._records is None or stamp != self._stamp:
            rows = list(self._source.records())
            months = [m for m in (record_month(r, self._contract) for r in rows) if m is not None]
            self._records = RecordSet.of(rows)
            self._first = min(months) if months else None
            self._closed = {}
            self._stamp = stamp
        return self._records

    def _month(self, records: RecordSet, month: Month, now: int) -> dict[str, CommitmentMonth]:
        period = calendar_month(*month, self._contract.zone)
        settled = period.end <= now
        if settled and month in self._closed:
            return self._closed[month]
        results = settle_commitments(self._contract, self._calendars, records, period, now)
        figures = {
            result.commitment: month_figure(result, month_text(month), settled=settled)
            for result in results
        }
        if settled and not any(figure.counts.get("pending") for figure in figures.values()):
            self._closed[month] = figures
        return figures

    def views(self, now: int) -> tuple[CommitmentView, ...]:
        """Every commitment of the contract, with its months up to the one holding ``now``."""
        contract = self._contract
        if not contract.commitments:
            return ()
        records = self._load()
        current = month_of(now, contract)
        months: list[dict[str, CommitmentMonth]] = []
        if self._first is not None and self._first <= current:
            every = list(months_between(self._first, current))[-PUBLIC_MONTHS:]
            months = [self._month(records, month, now) for month in every]
        provisioning = provisioning_arrays(records.provisioning)
        views = []
        for name, spec in contract.commitments.items():
            figures = [by_name[name] for by_name in months if name in by_name]
            if isinstance(spec, Percentile):
                zone = contract.zone
                days = [
                    commitment_day(day, zone)
                    for day in daily_series(provisioning, spec, zone, now, CHART_DAYS)
                ]
                now_value = day_results(provisioning, spec, [now])[0]
                views.append(
                    commitment_view(name, spec, figures, days, commitment_day(now_value, zone))
                )
            else:
                views.append(commitment_view(name, spec, figures))
        return tuple(views)
