"""Records checked against their contract: locations and services it declares, each record
once per batch, and the span of instants a settlement may need a record for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slaledger.core.commitment_spec import Percentile
from slaledger.core.contract import Contract
from slaledger.core.outages import from_records as outages_from_records
from slaledger.core.outages import outage_problem
from slaledger.core.records import (
    AnyRecord,
    Claim,
    Ddos,
    HardwareSwap,
    Outage,
    Provisioning,
    Ticket,
    record_key,
)
from slaledger.core.timebase import format_instant


@dataclass(frozen=True)
class RecordMistake:
    """What is wrong with the record at ``index`` of a batch, and in which field."""

    index: int
    field: str
    message: str


def undeclared(contract: Contract, record: AnyRecord) -> tuple[str, str] | None:
    """``(field, message)`` when ``record`` names a service or location ``contract`` does not
    declare (a location is checked only when the contract declares locations), or is an
    outage of a service whose rule cannot take one."""
    if isinstance(record, Outage):
        problem = outage_problem(contract, outages_from_records([record])[0])
        return None if problem is None else (problem.field or "service", problem.message)
    location = getattr(record, "location", None)
    if location is not None:
        why = contract.undeclared(location)
        if why is not None:
            return "location", f"location {why}"
    return None


def check_batch(contract: Contract, records: Sequence[AnyRecord], now: int) -> list[RecordMistake]:
    """Every record naming something ``contract`` lacks, holding an instant after ``now`` or
    before the contract's ``effective_from`` (a stored record must never make a figure look
    better than what has happened), and every record whose kind and id an earlier one of
    the batch already has (a batch holds one version of each record)."""
    mistakes: list[RecordMistake] = []
    seen: dict[tuple[str, str], int] = {}
    for index, record in enumerate(records):
        found = undeclared(contract, record) or _out_of_bounds(contract, record, now)
        if found is not None:
            mistakes.append(RecordMistake(index, *found))
        key = (record.kind, record_key(record))
        first = seen.setdefault(key, index)
        if first != index:
            field = "id" if record.id is not None else _key_fields(record)
            mistakes.append(
                RecordMistake(
                    index,
                    field,
                    f"expected each {record.kind} once, got {key[1]!r} again (first at #{first})",
                )
            )
    return mistakes


def record_instants(record: AnyRecord) -> list[tuple[str, int | None]]:
    """Every instant ``record`` holds, with the field that holds it."""
    if isinstance(record, Ticket):
        instants: list[tuple[str, int | None]] = [("opened", record.opened)]
        instants += [(f"responses[{i}].at", r.at) for i, r in enumerate(record.responses)]
        return instants
    if isinstance(record, HardwareSwap):
        return [("diagnosed", record.diagnosed), ("replaced", record.replaced)]
    if isinstance(record, Ddos):
        return [("detected", record.detected), ("mitigated", record.mitigated)]
    if isinstance(record, Provisioning):
        return [("requested", record.requested), ("ready", record.ready)]
    if isinstance(record, Outage):
        return [("start", record.start), ("end", record.end)]
    assert isinstance(record, Claim)
    return [("received", record.received)]


def _out_of_bounds(contract: Contract, record: AnyRecord, now: int) -> tuple[str, str] | None:
    for field, instant in record_instants(record):
        if instant is None:
            continue
        if instant > now:
            return field, (
                f"expected an instant at or before now ({format_instant(now)}), "
                f"got {format_instant(instant)}"
            )
        if contract.start is not None and instant < contract.start:
            return field, (
                f"expected an instant at or after the contract's effective_from "
                f"({format_instant(contract.start)}), got {format_instant(instant)}"
            )
    return None


def _key_fields(record: AnyRecord) -> str:
    return "start" if isinstance(record, Outage) else "month"


def record_span(record: AnyRecord) -> tuple[int, int | None]:
    """The instants a settlement may need ``record`` for: from the first to the last
    (``None`` while it is open, or for a claim, which any month may read).

    A ticket belongs to the month it was opened in, a DDoS event to that of its detection and
    a provisioning request, for trailing windows, to the instant it was requested; a swap
    belongs to the month it was replaced in, or to every month while it is not.
    """
    if isinstance(record, Ticket):
        return record.opened, record.opened
    if isinstance(record, HardwareSwap):
        return record.diagnosed, record.replaced
    if isinstance(record, Ddos):
        return record.detected, record.detected
    if isinstance(record, Provisioning):
        return record.requested, record.requested
    if isinstance(record, Outage):
        return record.start, record.end
    assert isinstance(record, Claim)
    return 0, None


LOOKBACK_MARGIN = 86_400_000_000
"""A day more than the longest trailing window, for local days that start before UTC's."""


def record_lookback(contract: Contract) -> int:
    """How long before a month the records its settlement reads may start: the longest
    trailing window of the contract's percentile commitments, and a day."""
    windows = [
        spec.window for spec in contract.commitments.values() if isinstance(spec, Percentile)
    ]
    return max(windows, default=0) + LOOKBACK_MARGIN
