"""Settling every commitment of a contract for one month, at one evaluation instant.

:func:`settle_commitments` sends each commitment of the ``commitments:`` section to its
evaluator, in the order the contract lists them, with the records of the kind it reads.
Calendars are built by the caller (their public holidays come from an adapter) and passed in
by name; the evaluation instant is passed in too (``--at``, else the end of the month).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from slaledger.core.business_calendar import BusinessCalendar
from slaledger.core.commitment_results import CommitmentResult
from slaledger.core.commitment_spec import Deadline, FirstResponse, Percentile, PerEvent
from slaledger.core.contract import Contract
from slaledger.core.deadline import evaluate_deadline
from slaledger.core.first_response import evaluate_first_response
from slaledger.core.per_event import evaluate_per_event
from slaledger.core.percentile import evaluate_percentile, provisioning_arrays
from slaledger.core.periods import Period
from slaledger.core.record_columns import (
    SwapColumns,
    TicketColumns,
    swap_columns,
    ticket_columns,
)
from slaledger.core.records import (
    AnyRecord,
    Claim,
    Ddos,
    HardwareSwap,
    Outage,
    Provisioning,
    Ticket,
)


@dataclass(frozen=True)
class RecordSet:
    """The records a settlement reads, by kind (tickets and swaps as columns)."""

    tickets: TicketColumns = field(default_factory=lambda: ticket_columns(()))
    swaps: SwapColumns = field(default_factory=lambda: swap_columns(()))
    ddos: tuple[Ddos, ...] = ()
    provisioning: tuple[Provisioning, ...] = ()
    outages: tuple[Outage, ...] = ()
    claims: tuple[Claim, ...] = ()

    @classmethod
    def of(cls, records: Iterable[AnyRecord]) -> RecordSet:
        rows = list(records)
        return cls(
            ticket_columns(record for record in rows if isinstance(record, Ticket)),
            swap_columns(record for record in rows if isinstance(record, HardwareSwap)),
            tuple(record for record in rows if isinstance(record, Ddos)),
            tuple(record for record in rows if isinstance(record, Provisioning)),
            tuple(record for record in rows if isinstance(record, Outage)),
            tuple(record for record in rows if isinstance(record, Claim)),
        )


def calendar_names(contract: Contract) -> list[str]:
    """The calendars the commitments of ``contract`` use, each once, in order."""
    names: dict[str, None] = {}
    for spec in contract.commitments.values():
        if isinstance(spec, (FirstResponse, Deadline)):
            names[spec.calendar] = None
    return list(names)


def settle_commitments(
    contract: Contract,
    calendars: Mapping[str, BusinessCalendar],
    records: RecordSet,
    period: Period,
    at: int,
) -> tuple[CommitmentResult, ...]:
    """Every commitment of ``contract`` for ``period``, judged at the instant ``at``."""
    results: list[CommitmentResult] = []
    for name, spec in contract.commitments.items():
        if isinstance(spec, FirstResponse):
            calendar = calendars[spec.calendar]
            results.append(
                evaluate_first_response(name, spec, calendar, records.tickets, period, at)
            )
        elif isinstance(spec, Deadline):
            calendar = calendars[spec.calendar]
            results.append(evaluate_deadline(name, spec, calendar, records.swaps, period, at))
        elif isinstance(spec, PerEvent):
            results.append(evaluate_per_event(name, spec, records.ddos, period, at))
        elif isinstance(spec, Percentile):
            provisioning = provisioning_arrays(records.provisioning)
            results.append(evaluate_percentile(name, spec, provisioning, period, contract.zone, at))
    return tuple(results)
