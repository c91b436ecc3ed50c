"""What the public surfaces show of the commitments beyond uptime: figures, never items.

A settled commitment (:class:`~slaledger.core.commitment_results.CommitmentResult`) lists
every ticket, swap and event with its id and customer. None of that is public: the views
here keep only counts, verdicts and figures (how many responses were met, missed or still
pending; how many swaps were late and by how many hours in total; how many attacks were
covered and met; the provisioning statistic per day). They are built from results and
hold no id or customer at all, so no page or API can leak one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from slaledger.core.commitment_results import (
    CommitmentKind,
    CommitmentResult,
    DayResult,
    seconds,
)
from slaledger.core.commitment_spec import (
    AnyCommitment,
    Deadline,
    FirstResponse,
    Percentile,
    PerEvent,
)
from slaledger.core.durations import format_duration
from slaledger.core.timebase import US_PER_DAY, from_instant

CHART_DAYS = 90
"""Days of a percentile commitment's published history (its chart)."""

_TITLES: dict[str, str] = {
    "hardware-swap": "Hardware swap",
    "ddos": "DDoS mitigation",
    "provisioning": "VPS provisioning",
}


@dataclass(frozen=True)
class CommitmentMonth:
    """One month of one commitment, as published."""

    month: str
    """``YYYY-MM`` in the contract's time zone."""
    met: bool | None
    """Every judged item (or day) met; ``None``: nothing judged."""
    counts: Mapping[str, int] = field(default_factory=dict)
    """Items per status (``met``, ``missed``, ``pending``, ``late``, ``not-covered``);
    empty for a percentile commitment."""
    late_hours: int | None = None
    """A deadline commitment: the late hours of its late items, added up."""
    judged_days: int = 0
    """A percentile commitment: days with records (judged) and of those, met."""
    met_days: int = 0
    worst_seconds: Decimal | None = None
    """A percentile commitment: the month's highest daily value (``inf`` with a failure)."""
    settled: bool = True
    """``False`` for the month to date (its figures still change)."""


@dataclass(frozen=True)
class CommitmentDay:
    """A percentile commitment as evaluated at the end of one local day."""

    day: str
    """``YYYY-MM-DD``: the local date whose end ``at`` is."""
    at: int
    count: int
    value_seconds: Decimal | None
    met: bool | None


@dataclass(frozen=True)
class CommitmentView:
    """One commitment: what is promised and how it went, month by month."""

    id: str
    kind: CommitmentKind
    title: str
    promise: str
    """The promise in words, e.g. "first human response within 1h of uk-office hours"."""
    severity: str | None = None
    calendar: str | None = None
    within: str | None = None
    below_seconds: Decimal | None = None
    """Per-event and percentile commitments: the threshold, exact seconds."""
    statistic: str | None = None
    """``median`` or ``p95``."""
    window_days: int | None = None
    min_peak_gbps: Decimal | None = None
    months: tuple[CommitmentMonth, ...] = ()
    """Newest first; the month to date first of all."""
    days: tuple[CommitmentDay, ...] = ()
    """A percentile commitment: the last days (up to :data:`CHART_DAYS`), oldest first."""
    current: CommitmentDay | None = None
    """A percentile commitment: its figure over the window ending now."""


def describe(name: str, spec: AnyCommitment) -> CommitmentView:
    """The view of ``spec`` with no results yet: its title and promise."""
    if isinstance(spec, FirstResponse):
        hours = "24/7" if spec.calendar == "always" else f"{spec.calendar} hours"
        return CommitmentView(
            id=name,
            kind=spec.kind,
            title=f"Support first response, {spec.severity}",
            promise=f"first human response within {spec.within} ({hours})",
            severity=spec.severity,
            calendar=spec.calendar,
            within=spec.within,
        )
    if isinstance(spec, Deadline):
        return CommitmentView(
            id=name,
            kind=spec.kind,
            title=_TITLES.get(spec.records, spec.records),
            promise=f"done within {spec.within} of {spec.calendar} hours",
            calendar=spec.calendar,
            within=spec.within,
        )
    if isinstance(spec, PerEvent):
        peak = spec.covers.min_peak_gbps
        covers = f", events of at least {peak} Gbps" if peak else ""
        return CommitmentView(
            id=name,
            kind=spec.kind,
            title=_TITLES.get(spec.records, spec.records),
            promise=f"under {format_duration(spec.below)} per event{covers}",
            below_seconds=seconds(spec.below),
            min_peak_gbps=peak,
        )
    statistic = _statistic(spec)
    return CommitmentView(
        id=name,
        kind=spec.kind,
        title=_TITLES.get(spec.records, spec.records),
        promise=(
            f"{'median' if statistic == 'median' else statistic} under "
            f"{format_duration(spec.below)} over a trailing {format_duration(spec.window)}"
        ),
        below_seconds=seconds(spec.below),
        statistic=statistic,
        window_days=spec.window // US_PER_DAY,
    )


def month_figure(result: CommitmentResult, month: str, *, settled: bool) -> CommitmentMonth:
    """The public figures of one commitment's month: counts and totals, no item."""
    if result.kind == "percentile":
        judged = [day for day in result.days if day.met is not None]
        values = [day.value_seconds for day in judged if day.value_seconds is not None]
        return CommitmentMonth(
            month=month,
            met=result.met,
            judged_days=len(judged),
            met_days=sum(1 for day in judged if day.met),
            worst_seconds=max(values) if values else None,
            settled=settled,
        )
    late = [item.late_hours for item in result.items if item.late_hours is not None]
    return CommitmentMonth(
        month=month,
        met=result.met,
        counts=dict(result.counts),
        late_hours=sum(late) if result.kind == "deadline" else None,
        settled=settled,
    )


def commitment_day(day: DayResult, zone: ZoneInfo) -> CommitmentDay:
    """``day`` labelled with the local date whose end it is."""
    end = from_instant(day.at - 1).astimezone(zone)
    return CommitmentDay(
        day=datetime(end.year, end.month, end.day).strftime("%Y-%m-%d"),
        at=day.at,
        count=day.count,
        value_seconds=day.value_seconds,
        met=day.met,
    )


def commitment_view(
    name: str,
    spec: AnyCommitment,
    months: Iterable[CommitmentMonth],
    days: Sequence[CommitmentDay] = (),
    current: CommitmentDay | None = None,
) -> CommitmentView:
    """The view of ``spec`` with its months (any order) and, for a percentile, its days."""
    base = describe(name, spec)
    ordered = tuple(sorted(months, key=lambda m: m.month, reverse=True))
    kept = tuple(sorted(days, key=lambda d: d.at)[-CHART_DAYS:])
    return replace(base, months=ordered, days=kept, current=current)


def _statistic(spec: Percentile) -> str:
    rank = spec.statistic.percentile
    if rank is None:
        return "median"
    return f"p{rank.normalize():f}"
