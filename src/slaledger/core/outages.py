"""Operator-recorded outages (power faults no probe sees), as down time for the uptime rules.

An ``outage`` record ``[start, end)`` for a service at a location is down time at that
location, merged (a union) with what the probes show there *before* the service's rule
applies its duration and rounding:

- ``first-fail-to-first-success``: the outage is added to the location's intervals from
  first failed to first successful probe; the merged intervals are then combined across
  locations (``confirm``), cut by exclusions and rounded up to whole minutes once each.
- ``continuous-failure``: every minute bucket the outage overlaps fails at that location,
  as a failed probe inside the bucket would; runs shorter than ``min_duration`` still do
  not count, and ``confirm`` counts the location once.

``probe-ratio`` services count probes, and an outage has no probes: a record naming one is
an error, as is a service the contract lacks or a location the service is not probed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from slaledger.core.contract import Contract, ProbeRatio
from slaledger.core.intervals import IntervalSet
from slaledger.core.records import Outage as OutageRecord
from slaledger.errors import Problem, UserError

OutageKey = tuple[str, str]
"""(service id, location name)."""


@dataclass(frozen=True)
class Outage:
    """One outage record, with where it was read (for errors)."""

    service: str
    location: str | None
    """``None``: at every location of the service (the contract must declare them)."""
    start: int
    end: int
    note: str | None = None
    source: str | None = None
    line: int | None = None


@dataclass(frozen=True, eq=False)
class RecordedSpans(IntervalSet):
    """Recorded outage time (a union), with each record's span and note for the episodes'
    reasons. Equal to any :class:`IntervalSet` of the same intervals."""

    notes: tuple[tuple[int, int, str], ...] = ()


def notes_between(spans: Iterable[IntervalSet], start: int, end: int) -> str:
    """`` (note, note)``: the notes of recorded outages overlapping ``[start, end)``, or ``""``."""
    found = dict.fromkeys(
        note
        for recorded in spans
        if isinstance(recorded, RecordedSpans)
        for a, b, note in recorded.notes
        if note and a < end and start < b
    )
    return f" ({', '.join(found)})" if found else ""


class OutageError(UserError):
    """An outage record names a service or location it cannot apply to."""


def outage_problem(contract: Contract, outage: Outage) -> Problem | None:
    """Why ``outage`` cannot be merged into ``contract``'s uptime, or ``None``."""

    def problem(field: str, message: str) -> Problem:
        return Problem(message, source=outage.source, line=outage.line, field=field)

    service = contract.services.get(outage.service)
    if service is None:
        return problem(
            "service",
            f"expected a service of contract {contract.contract} "
            f"({', '.join(contract.services)}), got {outage.service!r}",
        )
    if isinstance(service.downtime, ProbeRatio):
        return problem(
            "service",
            f"service {outage.service} is settled by probe-ratio, which counts probes; an "
            "outage record applies only to continuous-failure or first-fail-to-first-success "
            "services",
        )
    allowed = contract.locations_of(outage.service)
    if outage.location is None and allowed is None:
        return problem(
            "location",
            f"expected the location of the outage: contract {contract.contract} declares no "
            "locations for an outage without one to apply to",
        )
    if allowed is not None and outage.location is not None and outage.location not in allowed:
        return problem(
            "location",
            f"expected a location of service {outage.service} ({', '.join(allowed)}), "
            f"got {outage.location!r}",
        )
    if outage.end <= outage.start:
        return problem("end", "expected an end after the start")
    return None


def outage_intervals(contract: Contract, outages: Iterable[Outage]) -> dict[OutageKey, IntervalSet]:
    """The down time of ``outages`` per (service, location), as unions.

    :class:`OutageError` with every record that cannot apply, none merged.
    """
    problems: list[Problem] = []
    pairs: dict[OutageKey, list[tuple[int, int]]] = {}
    notes: dict[OutageKey, list[tuple[int, int, str]]] = {}
    for outage in outages:
        problem = outage_problem(contract, outage)
        if problem is not None:
            problems.append(problem)
            continue
        where = (
            (outage.location,)
            if outage.location is not None
            else contract.locations_of(outage.service)
        )
        for location in where or ():
            pairs.setdefault((outage.service, location), []).append((outage.start, outage.end))
            if outage.note:
                notes.setdefault((outage.service, location), []).append(
                    (outage.start, outage.end, outage.note)
                )
    if problems:
        raise OutageError(problems)
    merged = {key: IntervalSet.of(spans) for key, spans in pairs.items()}
    return {
        key: RecordedSpans(union.starts, union.ends, tuple(notes.get(key, ())))
        for key, union in merged.items()
    }


def from_records(
    records: Iterable[OutageRecord], source: str | None = None, lines: Sequence[int] | None = None
) -> list[Outage]:
    """Core outages of ``outage`` records; ``lines`` (one per record) locate their errors."""
    found = list(records)
    where = list(lines) if lines is not None else [None] * len(found)
    return [
        Outage(r.service, r.location, r.start, r.end, r.note or None, source, line)
        for r, line in zip(found, where, strict=True)
    ]


def check_outage_services(contract: Contract, outages: Mapping[OutageKey, IntervalSet]) -> None:
    """:class:`OutageError` when down time is given for a service it cannot apply to."""
    problems = [
        problem
        for (service, location), spans in outages.items()
        if spans
        for problem in [
            outage_problem(
                contract, Outage(service, location, int(spans.starts[0]), int(spans.ends[0]))
            )
        ]
        if problem is not None
    ]
    if problems:
        raise OutageError(problems)
