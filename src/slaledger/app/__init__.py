"""The composition root: the use-cases, wiring the file and database adapters to the pure
core; :mod:`slaledger.app.root` builds every part from one :class:`Settings`.

The clock is built there (:func:`build_clock`) and handed down: nothing below takes the time
itself. Commands, ``serve``, the publisher process and the benchmarks get their stores, clock,
notifier and publisher from :class:`Root`; use-cases (:func:`report_from_store`,
:func:`store_import`, :func:`issue_statement`, :func:`~slaledger.store.tiers.retain`) take
built objects, so they can be called as a library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from slaledger.app.root import Root as Root
from slaledger.app.root import Settings as Settings
from slaledger.app.root import build_clock as build_clock
from slaledger.app.root import open_store as open_store
from slaledger.app.root import open_stores as open_stores
from slaledger.core.classified import Classified
from slaledger.core.commitments import RecordSet, settle_commitments
from slaledger.core.commitments import calendar_names as commitment_calendars
from slaledger.core.contract import Contract
from slaledger.core.credits import settle_credits
from slaledger.core.events import Events, merge_events
from slaledger.core.instant_bounds import InstantBounds
from slaledger.core.intervals import IntervalSet
from slaledger.core.observations import Observations
from slaledger.core.outages import OutageKey, outage_intervals
from slaledger.core.outages import from_records as outages_from_records
from slaledger.core.periods import calendar_month, parse_month
from slaledger.core.record_checks import check_batch, record_lookback
from slaledger.core.records import AnyRecord, Claim, Outage
from slaledger.core.report import Report
from slaledger.core.settle import service_period, settle, settle_classified
from slaledger.core.statement_chain import Signer
from slaledger.core.timebase import US_PER_DAY, parse_typed_instant
from slaledger.errors import Problem, RecordsError, UsageError
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract
from slaledger.files.csv_observations import read_observations
from slaledger.files.customers_file import CustomerBook, load_customers
from slaledger.files.events_file import load_events
from slaledger.files.imports import ImportFormat, read_import
from slaledger.files.imports.helpdesk import ImportedRecords
from slaledger.files.records_jsonl import read_located_records
from slaledger.files.report_render import render_json
from slaledger.store.observation_store import ObservationStore
from slaledger.store.statements import Statement
from slaledger.store.tiers import DEFAULT_MINUTE_DAYS, LOAD_MARGIN, Stores, load_classified

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from slaledger.store.record_store import StoreOutcome


def parse_month_option(text: str) -> tuple[int, int]:
    try:
        return parse_month(text)
    except ValueError as error:
        raise UsageError(Problem(str(error), field="--month")) from None


def parse_instant_option(text: str, option: str) -> int:
    instant = parse_typed_instant(text)
    if instant is None:
        raise UsageError(
            Problem(
                f"expected an ISO 8601 instant with Z or an offset, e.g. 2026-11-01T00:00:00Z, "
                f"got {text!r}",
                field=option,
            )
        )
    return instant


@dataclass(frozen=True)
class Settlement:
    """What a report is asked for: the contract, its events, the month and trailing end."""

    contract: Contract
    events: Events
    month: tuple[int, int]
    at: int | None
    records: RecordSet | None = None
    """Records to settle the commitments from (and outages to merge); ``None``: uptime only."""
    outages: Mapping[OutageKey, IntervalSet] | None = None

    @classmethod
    def load(
        cls,
        contract_path: Path,
        events_path: Path | None,
        month_text: str,
        at_text: str | None,
        records_path: Path | None = None,
    ) -> Settlement:
        """Options first (cheap to check), then the contract, its events and records."""
        month = parse_month_option(month_text)
        at = None if at_text is None else parse_instant_option(at_text, "--at")
        contract = load_contract(contract_path)
        events = Events() if events_path is None else load_events(events_path, contract)
        if records_path is None:
            return cls(contract, events, month, at)
        found, lines = read_located_records(records_path)
        records = RecordSet.of(found)
        outages = outage_intervals(
            contract,
            outages_from_records(records.outages, str(records_path), outage_lines(found, lines)),
        )
        return cls(contract, events, month, at, records, outages)

    def settle(self, observations: Observations) -> Report:
        report = settle(
            self.contract, observations, self.events, self.month, at=self.at, outages=self.outages
        )
        return self.with_commitments(report)

    def with_commitments(self, report: Report) -> Report:
        """``report`` with the contract's commitments settled from the records, judged at
        ``--at`` (default: the end of the month); unchanged without records or without
        commitments in the contract (as statements are: see ``core/month_statement.py``)."""
        if self.records is None or not self.contract.commitments:
            return report
        contract = self.contract
        period = calendar_month(*self.month, contract.zone)
        at = period.end if self.at is None else self.at
        calendars = {name: calendar_of(contract, name) for name in commitment_calendars(contract)}
        settled = settle_commitments(contract, calendars, self.records, period, at)
        return replace(report, commitments=settled, evaluated_at=at)

    def with_stored(self, stores: Stores) -> Settlement:
        """This settlement with the windows operators entered in the store added."""
        from slaledger.store.maintenance_store import MaintenanceStore  # noqa: PLC0415

        stored = MaintenanceStore(stores.engine, self.contract).events()
        return replace(self, events=merge_events(self.events, stored)).with_stored_records(
            stores.engine
        )

    def with_stored_records(self, engine: Engine) -> Settlement:
        """This settlement with the records stored for its contract (``records import``, the
        operator API), unless a records file was given or none are stored."""
        from slaledger.store.record_store import RecordStore  # noqa: PLC0415

        store = RecordStore(engine)
        if self.records is not None or not store.has_records(self.contract.contract):
            return self
        period = calendar_month(*self.month, self.contract.zone)
        end = max(period.end, self.at or period.end)
        found = store.records(
            self.contract.contract, period.start - record_lookback(self.contract), end
        )
        records = RecordSet.of(found)
        source = f"records stored for {self.contract.contract}"
        outages = outage_intervals(self.contract, outages_from_records(records.outages, source))
        return replace(self, records=records, outages=outages)

    def settle_classified(self, classified: Classified) -> Report:
        report = settle_classified(
            self.contract, classified, self.events, self.month, at=self.at, outages=self.outages
        )
        return self.with_commitments(report)

    @property
    def span(self) -> tuple[int, int]:
        """What to read: every service's period, widened by :data:`LOAD_MARGIN`."""
        month_period = calendar_month(*self.month, self.contract.zone)
        periods = [
            service_period(s, month_period, self.at) for s in self.contract.services.values()
        ]
        return (
            min(p.start for p in periods) - LOAD_MARGIN,
            max(p.end for p in periods) + LOAD_MARGIN,
        )


def report_from_files(
    contract_path: Path,
    probes_path: Path,
    events_path: Path | None,
    month_text: str,
    at_text: str | None = None,
    records_path: Path | None = None,
    customers_path: Path | None = None,
) -> Report:
    """Load a contract, its observations, events and records, and settle the month (with
    ``customers_path``, each customer's credits too)."""
    asked = Settlement.load(contract_path, events_path, month_text, at_text, records_path)
    book = None if customers_path is None else load_customers(customers_path, asked.contract)
    report = asked.settle(read_observations(probes_path, list(asked.contract.services)))
    return with_credits(asked, report, book, records_path)


def with_credits(
    asked: Settlement, report: Report, book: CustomerBook | None, records_path: Path | None
) -> Report:
    """``report`` with each customer's credits for the month; unchanged without customers.
    A claim in the records for a customer the book lacks is an error at its line."""
    if book is None:
        return report
    claims: tuple[Claim, ...] = () if asked.records is None else asked.records.claims
    if records_path is not None:
        known = book.customers.by_id()
        found, lines = read_located_records(records_path)
        unknown = [
            Problem(
                f"expected a customer of the customers file ({', '.join(known)}), "
                f"got {record.customer!r}",
                str(records_path),
                line,
                "customer",
            )
            for record, line in zip(found, lines, strict=True)
            if isinstance(record, Claim) and record.customer not in known
        ]
        if unknown:
            raise RecordsError(unknown)
    credits = settle_credits(
        asked.contract,
        asked.month,
        report.results,
        book.customers.customers,
        book.minor_units,
        commitments=report.commitments,
        claims=claims,
    )
    return replace(report, credits=credits)


def outage_lines(records: Sequence[AnyRecord], lines: Sequence[int]) -> list[int]:
    """The lines of the ``outage`` records among ``records`` (read from ``lines``)."""
    return [line for record, line in zip(records, lines, strict=True) if isinstance(record, Outage)]


def check_contract(contract_path: Path) -> Contract:
    return load_contract(contract_path)


def report_from_store(
    stores: Stores,
    asked: Settlement,
    book: CustomerBook | None = None,
    records_path: Path | None = None,
) -> Report:
    """Settle the month from the store: raw observations, or minute runs where pruned;
    windows from the events file and those operators entered (maintenance, exclusions);
    with ``book``, each customer's credits (claims from ``records_path``, else the store)."""
    asked = asked.with_stored(stores)
    report = asked.settle_classified(load_classified(stores, asked.contract, *asked.span))
    if book is not None and records_path is None:
        asked = with_stored_claims(asked, stores.engine)
    return with_credits(asked, report, book, records_path)


CLAIMS_HORIZON = 366 * US_PER_DAY
"""How long after a month's end stored claims for it are read (a later one changes nothing:
the month's credit was refused a year before)."""


def with_stored_claims(asked: Settlement, engine: Engine) -> Settlement:
    """``asked`` with every stored claim received from the month's start to a year after its
    end: claims come after the month the settlement reads records for."""
    from slaledger.store.record_store import RecordStore  # noqa: PLC0415

    period = calendar_month(*asked.month, asked.contract.zone)
    found = RecordStore(engine).records(
        asked.contract.contract, period.start, period.end + CLAIMS_HORIZON, kind="claim"
    )
    claims = tuple(record for record in found if isinstance(record, Claim))
    records = asked.records or RecordSet.of(())
    known = {(claim.customer, claim.month, claim.received) for claim in records.claims}
    extra = tuple(c for c in claims if (c.customer, c.month, c.received) not in known)
    return replace(asked, records=replace(records, claims=records.claims + extra))


def issue_statement(
    stores: Stores, asked: Settlement, *, now: int, signer: Signer | None = None
) -> tuple[Statement, bool]:
    """Settle a month that is over from the store and keep it as its statement (once),
    chained to the previous one and signed by ``signer`` when given."""
    month_text = f"{asked.month[0]:04d}-{asked.month[1]:02d}"
    end = calendar_month(*asked.month, asked.contract.zone).end
    if now < end:
        raise UsageError(
            Problem(f"expected a month that is over; {month_text} is not", field="--month")
        )
    existing = stores.statements.get(asked.contract.contract, month_text)
    if existing is not None:
        return existing, False
    asked = asked.with_stored(stores)
    report = asked.settle_classified(load_classified(stores, asked.contract, *asked.span))
    return stores.statements.issue(
        asked.contract.contract, month_text, render_json(report), now, signer
    )


@dataclass(frozen=True)
class ImportOutcome:
    received: int
    stored: int
    already_imported: bool
    skipped: tuple[str, ...] = ()
    """Monitors left out by ``--skip-unmapped``."""


@dataclass(frozen=True)
class ImportedFile:
    """A monitor export read and checked against its contract, not stored yet."""

    observations: Observations
    skipped: tuple[str, ...]
    batch_id: str
    source: str


def read_import_file(
    contract: Contract,
    file_path: Path,
    fmt: ImportFormat,
    *,
    location: str | None,
    timezone: str | None,
    service: str | None,
    now: int,
    monitor_map: Sequence[str] = (),
    skip_unmapped: bool = False,
) -> ImportedFile:
    """Read and check a monitor export (every mistake found before anything is stored)."""
    imported = read_import(
        file_path,
        fmt,
        contract,
        location=location,
        timezone=timezone,
        service=service,
        bounds=InstantBounds.for_import(contract, now, DEFAULT_MINUTE_DAYS),
        monitor_map=monitor_map,
        skip_unmapped=skip_unmapped,
    )
    digest = hashlib.sha256(file_path.read_bytes()).hexdigest()[:32]
    options = f"{fmt}:{location or ''}:{timezone or ''}:{service or ''}"
    if monitor_map or skip_unmapped:  # other mappings of one file are other batches
        options += f":{sorted(monitor_map)}:{skip_unmapped}"
    batch_id = f"import:{hashlib.sha256(options.encode()).hexdigest()[:16]}:{digest}"
    return ImportedFile(
        imported.observations, imported.skipped, batch_id, f"import {file_path.name}"
    )


def store_import(store: ObservationStore, imported: ImportedFile, *, now: int) -> ImportOutcome:
    """Load a read monitor export into the store; the same file imported twice is stored
    once."""
    observations, skipped = imported.observations, imported.skipped
    if store.has_batch(imported.batch_id):
        return ImportOutcome(len(observations), 0, already_imported=True, skipped=skipped)
    # Closed days go straight into segments (exact duplicate detection against history);
    # today's rows go through the hot table like an agent's.
    closed = observations.timestamp < (now // US_PER_DAY) * US_PER_DAY
    stored = store.pack_history(observations.take(closed))
    result = store.ingest(
        observations.take(~closed),
        received_at=now,
        batch_id=imported.batch_id,
        source=imported.source,
    )
    store.compact(now)
    return ImportOutcome(
        len(observations), stored + result.stored, already_imported=False, skipped=skipped
    )


def import_records(
    engine: Engine,
    contract: Contract,
    imported: ImportedRecords,
    *,
    now: int,
    actor: str,
) -> StoreOutcome:
    """Store records read from a file for ``contract``, all or nothing: a record naming a
    service or location the contract lacks, or one the file already holds, is refused with
    its line and nothing of the file is stored."""
    from slaledger.store.record_store import RecordStore  # noqa: PLC0415

    mistakes = check_batch(contract, imported.records, now)
    if mistakes:
        raise RecordsError(
            [
                Problem(
                    mistake.message, imported.source, imported.lines[mistake.index], mistake.field
                )
                for mistake in mistakes
            ]
        )
    return RecordStore(engine).store(contract.contract, imported.records, now=now, actor=actor)
