"""Keeping the published figures current: statements for months that are over, figures per
month and per UTC day, service-wide and per location.

Each figure is the contract's own rule settled over that period. Service-wide figures come
from the contract with every service pooled across locations, location figures from the
contract with every service settled per location; where that is the contract itself, the
figure is the contract's (for a settled month, its statement's). Work is done a little at a
time (``budget`` periods per run) so a store with years of history fills in gradually.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from functools import partial

from slaledger.core.business_calendar import BusinessCalendar
from slaledger.core.classified import Classified
from slaledger.core.commitments import RecordSet
from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.figures import minute_availability, ratio_availability
from slaledger.core.month_statement import settle_month_with_records
from slaledger.core.periods import Period, calendar_month
from slaledger.core.report import Report
from slaledger.core.settle import TRAILING_DAYS, settle_classified
from slaledger.core.statement_chain import Signer
from slaledger.core.timebase import US_PER_DAY, from_instant
from slaledger.errors import UserError
from slaledger.files.report_render import render_json
from slaledger.store.figure_store import Figure, FigureStore
from slaledger.store.tiers import LOAD_MARGIN, Stores, load_classified

log = logging.getLogger("slaledger.figures")

RETRY_FAILED = 6 * 3600 * 1_000_000
"""How long a period that could not be settled waits before it is tried again."""

Month = tuple[int, int]


def month_text(month: Month) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


def day_text(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")


def month_of(instant: int, contract: Contract) -> Month:
    local = from_instant(instant).astimezone(contract.zone)
    return (local.year, local.month)


def next_month(month: Month) -> Month:
    return (month[0] + month[1] // 12, month[1] % 12 + 1)


def months_between(first: Month, last: Month) -> Iterator[Month]:
    month = first
    while month <= last:
        yield month
        month = next_month(month)


def lookback(contract: Contract) -> int:
    """How far before a month its settlement reads: a trailing window's 30 days, if any."""
    trailing = any(s.window == "trailing-30d" for s in contract.services.values())
    return TRAILING_DAYS * US_PER_DAY if trailing else 0


def variants(contract: Contract) -> tuple[Contract, Contract]:
    """The contract with every service pooled across locations, and settled per location."""

    def each(per_location: bool) -> Contract:
        services = {
            key: service.model_copy(update={"per_location": per_location})
            for key, service in contract.services.items()
        }
        return contract.model_copy(update={"services": services})

    return each(False), each(True)


def report_figures(report: Report, label: str, *, settled: bool) -> list[Figure]:
    return [
        Figure(
            label,
            r.service,
            r.location,
            r.availability,
            r.downtime_minutes,
            r.met,
            r.credit_percent,
            settled,
        )
        for r in report.results
    ]


def statement_figures(document: str, label: str) -> list[Figure]:
    """The exact figures of a statement, from its counts (its text is rounded)."""
    figures = []
    for r in json.loads(document)["results"]:
        availability: Fraction | None = None
        if r["availability"] is not None:
            if r["total_minutes"] is None:
                availability = ratio_availability(r["probes"]["up"], r["probes"]["down"])
            else:
                availability = minute_availability(r["total_minutes"], r["downtime_minutes"])
        figures.append(
            Figure(
                label,
                r["service"],
                r["location"],
                availability,
                r["downtime_minutes"],
                r["met"],
                r["credit_percent"],
                True,
            )
        )
    return figures


@dataclass
class FiguresJob:
    contract: Contract
    stores: Stores
    figures: FigureStore
    events: Callable[[], Events]
    """The windows in force now: the events file's and the operators'."""
    statement_grace: int = US_PER_DAY
    """How long after a month ends its statement is issued (late agent batches get in)."""
    signer: Signer | None = None
    """Signs each statement issued (``serve --signing-key``); ``None``: chained, unsigned."""
    bar_days: int = 90
    budget: int = 4
    """Periods settled per run at most."""
    records: Callable[[], RecordSet] | None = None
    """The contract's records, for the statement of a month that is over: its commitments
    and its recorded outages (``None``: uptime from the probes only)."""
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    """The calendars the contract's commitments use, by name."""
    _events_seen: str | None = field(default=None, init=False)
    _stale: set[str] = field(default_factory=set, init=False)
    _failed: dict[str, int] = field(default_factory=dict, init=False)
    """Periods that could not be settled, and when to try them again."""

    def _classified(self, start: int, end: int) -> Classified:
        return load_classified(self.stores, self.contract, start - LOAD_MARGIN, end + LOAD_MARGIN)

    def _variant_figures(
        self, data: Classified, events: Events, month: Month, label: str, period: Period | None
    ) -> list[Figure]:
        pooled, by_location = variants(self.contract)
        figures: list[Figure] = []
        figures += report_figures(
            settle_classified(pooled, data, events, month, period=period), label, settled=False
        )
        located = settle_classified(by_location, data, events, month, period=period)
        # A service no location measured has one location-less result: the pooled one.
        figures += [
            f for f in report_figures(located, label, settled=False) if f.location is not None
        ]
        return figures

    def settle_month(self, month: Month, now: int) -> list[Figure]:
        """A month's figures; issues its statement first when the month is over (plus grace)."""
        label = month_text(month)
        events = self.events()
        span = calendar_month(*month, self.contract.zone)
        data = self._classified(span.start - lookback(self.contract), span.end)
        figures = self._variant_figures(data, events, month, label, None)
        if now < span.end + self.statement_grace:
            return figures
        statement = self.stores.statements.get(self.contract.contract, label)
        if statement is None:
            records = None if self.records is None else self.records()
            report = settle_month_with_records(
                self.contract, data, events, month, records, self.calendars
            )
            statement, _new = self.stores.statements.issue(
                self.contract.contract, label, render_json(report), now, self.signer
            )
            log.info(
                "issued the statement of %s (sha256 %s, %s)",
                label,
                statement.sha256,
                "unsigned" if statement.key_id is None else f"signed by key {statement.key_id}",
            )
        own = statement_figures(statement.document, label)
        covered = {(f.service, f.location) for f in own}
        return own + [
            Figure(**{**f.__dict__, "settled": True})
            for f in figures
            if (f.service, f.location) not in covered
        ]

    def settle_day(self, day: int) -> list[Figure]:
        period = Period(day * US_PER_DAY, (day + 1) * US_PER_DAY)
        data = self._classified(period.start, period.end)
        month = month_of(period.start, self.contract)
        return self._variant_figures(data, self.events(), month, day_text(day), period)

    def due(self, now: int) -> list[tuple[str, Callable[[], list[Figure]]]]:
        """Periods whose figures are missing or stale, newest first."""
        first = self.stores.minutes.first_instant()
        if first is None:
            return []
        if self.contract.start is not None:  # nothing before the SLA's start is published
            first = max(first, self.contract.start)
        found = self.figures.periods()
        known = {label: settled for label, (settled, _at) in found.items()}
        events_key = self.events().model_dump_json()
        if self._events_seen is not None and self._events_seen != events_key:
            # Windows changed (an operator classified an incident, say): every figure not yet
            # settled is computed again.
            self._stale |= {label for label, settled in known.items() if not settled}
        self._events_seen = events_key
        work: list[tuple[str, Callable[[], list[Figure]]]] = []
        current = month_of(now, self.contract)
        previous = (current[0] - 1, 12) if current[1] == 1 else (current[0], current[1] - 1)
        # Statements are chained month after month, so months due for their statement come
        # oldest first; the other months newest first.
        statements: list[tuple[str, Callable[[], list[Figure]]]] = []
        for month in reversed(list(months_between(month_of(first, self.contract), previous))):
            label = month_text(month)
            if self._failed.get(label, 0) > now:
                continue
            end = calendar_month(*month, self.contract.zone).end
            settled = known.get(label)
            over = now >= end + self.statement_grace
            if settled is None or label in self._stale or (not settled and over):
                task = (label, partial(self.settle_month, month, now))
                if over and not settled:
                    statements.insert(0, task)
                else:
                    work.append(task)
        work[:0] = statements
        today = now // US_PER_DAY
        for day in range(today - 1, max(first // US_PER_DAY, today - self.bar_days) - 1, -1):
            label = day_text(day)
            if self._failed.get(label, 0) > now:
                continue
            # Once more after the grace: probes an agent sent late count in the day's bar.
            late = (day + 1) * US_PER_DAY + self.statement_grace
            again = label in found and found[label][1] < late <= now
            if label not in known or label in self._stale or again:
                work.append((label, partial(self.settle_day, day)))
        return work

    def run(self, now: int) -> int:
        """Settle up to ``budget`` due periods; returns how many figures were written."""
        written = 0
        for label, compute in self.due(now)[: self.budget]:
            self._stale.discard(label)
            try:
                figures = compute()
            except UserError as error:  # e.g. an edge inside a minute kept only as runs
                log.warning("figures of %s not computed: %s", label, error)
                self._failed[label] = now + RETRY_FAILED
                continue
            except Exception:
                log.exception("figures of %s failed", label)
                self._failed[label] = now + RETRY_FAILED
                continue
            written += self.figures.replace([label], figures, now)
        return written
