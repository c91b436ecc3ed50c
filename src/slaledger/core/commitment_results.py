"""What settling a commitment produces: per-item or per-day results, and the month's verdict.

The JSON of each (``as_dict``) is the report's ``commitments`` section, exactly as
``SETTLEMENT-SEMANTICS.md`` shows it: instants as ISO 8601 UTC text, seconds as exact
decimal strings (``"2730"``, ``"73.5"``), ``"inf"`` for a failed request, ``null`` for nothing
judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from slaledger.core.timebase import format_instant

Status = Literal["met", "missed", "pending", "late", "not-covered"]
CommitmentKind = Literal["first-response", "deadline", "per-event", "percentile"]

COUNTED_STATUSES: dict[str, tuple[Status, ...]] = {
    "first-response": ("met", "missed", "pending", "not-covered"),
    "deadline": ("met", "late", "pending", "not-covered"),
    "per-event": ("met", "missed", "pending", "not-covered"),
}
"""The statuses each item kind of commitment counts, in the order the report shows them."""

INFINITE = Decimal("Infinity")
"""``value_seconds`` of a window holding a failed request (written ``"inf"``)."""


def seconds(us: int) -> Decimal:
    """Microseconds as exact seconds (``2730000000`` → ``2730.000000``, equal to ``2730``;
    :func:`seconds_text` writes it ``"2730"``)."""
    return Decimal(us).scaleb(-6)


def seconds_text(value: Decimal | None) -> str | None:
    """``"2730"``, ``"73.5"``, ``"inf"``; ``None`` stays ``None``."""
    if value is None:
        return None
    if value.is_infinite():
        return "inf"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass(frozen=True)
class ItemResult:
    """One ticket, swap or event: when its clock started, was due and stopped, and how it went."""

    id: str
    start: int
    due: int | None
    end: int | None
    """When the clock stopped (the human reply, the replacement, the mitigation); ``None``
    while it still runs."""
    elapsed_seconds: Decimal
    """Open time of the commitment's calendar from ``start`` to ``end`` (or to the evaluation
    instant), exact; wall-clock time for per-event commitments."""
    status: Status
    late_hours: int | None = None
    customer: str | None = None
    """Not shown in the report's item JSON; the credits of late records are the customer's."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": format_instant(self.start),
            "due": None if self.due is None else format_instant(self.due),
            "end": None if self.end is None else format_instant(self.end),
            "elapsed_seconds": seconds_text(self.elapsed_seconds),
            "status": self.status,
            "late_hours": self.late_hours,
        }


@dataclass(frozen=True)
class DayResult:
    """A percentile commitment as evaluated at ``at`` (the end of one local day)."""

    at: int
    count: int
    value_seconds: Decimal | None
    """The statistic in exact seconds; ``INFINITE`` for a failed request; ``None`` without
    records (not judged)."""
    met: bool | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": format_instant(self.at),
            "count": self.count,
            "value_seconds": seconds_text(self.value_seconds),
            "met": self.met,
        }


@dataclass(frozen=True)
class CommitmentResult:
    """One commitment settled for one period."""

    commitment: str
    kind: CommitmentKind
    met: bool | None
    """Every judged item (or day) met; ``None`` when nothing was judged."""
    counts: dict[str, int] = field(default_factory=dict)
    items: tuple[ItemResult, ...] = ()
    days: tuple[DayResult, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "commitment": self.commitment,
            "kind": self.kind,
            "met": self.met,
        }
        if self.kind == "percentile":
            fields["days"] = [day.as_dict() for day in self.days]
        else:
            fields["counts"] = dict(self.counts)
            fields["items"] = [item.as_dict() for item in self.items]
        return fields


def count_statuses(kind: CommitmentKind, statuses: Iterable[Status]) -> dict[str, int]:
    """How many items have each status ``kind`` counts (every one shown, zeros too)."""
    counts: dict[str, int] = dict.fromkeys(COUNTED_STATUSES[kind], 0)
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def verdict(counts: dict[str, int]) -> bool | None:
    """Met when nothing judged failed; ``None`` when nothing was judged (only pending or
    not-covered items, or none)."""
    failed = counts.get("missed", 0) + counts.get("late", 0)
    if failed:
        return False
    return True if counts.get("met", 0) else None
