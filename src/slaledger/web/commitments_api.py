"""The commitments beyond uptime in ``GET /api/v1/sla``: counts and figures, never items.

Each commitment says what is promised and, per month (the month to date first), how it
went: items per status for support responses, hardware swaps and DDoS events (with the
late hours of the swaps), judged and met days for a percentile commitment, whose value is
also given as of now and at the end of each of the last 90 days. Seconds are exact decimal
strings (``"inf"`` when a failed request decides the statistic). No ticket id, record id or
customer is in any of it: the views it is built from hold none.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from slaledger.core.commitment_publication import CommitmentDay, CommitmentMonth, CommitmentView
from slaledger.core.commitment_results import seconds_text
from slaledger.core.timebase import format_instant


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommitmentMonthOut(_Out):
    month: str = Field(description="YYYY-MM in the contract's time zone.")
    settled: bool = Field(description="false for the month to date.")
    met: bool | None = Field(description="Every judged item (or day) met; null: none judged.")
    counts: dict[str, int] | None = Field(
        description="Items per status (met, missed, pending, late, not-covered); null for a "
        "percentile commitment."
    )
    late_hours: int | None = Field(description="Deadline commitments: late hours in total.")
    judged_days: int | None = Field(description="Percentile commitments: days with records.")
    met_days: int | None
    worst_seconds: str | None = Field(
        description="Percentile commitments: the month's highest daily value."
    )


class CommitmentDayOut(_Out):
    day: str = Field(description="The local date whose end the value is taken at.")
    at: str
    count: int = Field(description="Records in the trailing window.")
    value_seconds: str | None = Field(description='Exact seconds, "inf", or null (no records).')
    met: bool | None


class CommitmentOut(_Out):
    id: str
    kind: Literal["first-response", "deadline", "per-event", "percentile"]
    title: str
    promise: str
    severity: str | None
    calendar: str | None
    within: str | None = Field(description="Open time of the calendar: 15m, 4h, 1bd.")
    below_seconds: str | None
    min_peak_gbps: str | None
    statistic: str | None = Field(description="median or pNN.")
    window_days: int | None
    months: list[CommitmentMonthOut] = Field(description="Newest first.")
    now: CommitmentDayOut | None = Field(
        description="Percentile commitments: the value over the window ending now."
    )
    days: list[CommitmentDayOut] = Field(
        description="Percentile commitments: the last 90 days, oldest first."
    )


def _month_out(month: CommitmentMonth, kind: str) -> CommitmentMonthOut:
    percentile = kind == "percentile"
    return CommitmentMonthOut(
        month=month.month,
        settled=month.settled,
        met=month.met,
        counts=None if percentile else dict(month.counts),
        late_hours=month.late_hours,
        judged_days=month.judged_days if percentile else None,
        met_days=month.met_days if percentile else None,
        worst_seconds=seconds_text(month.worst_seconds),
    )


def _day_out(day: CommitmentDay) -> CommitmentDayOut:
    return CommitmentDayOut(
        day=day.day,
        at=format_instant(day.at),
        count=day.count,
        value_seconds=seconds_text(day.value_seconds),
        met=day.met,
    )


def commitment_out(view: CommitmentView) -> CommitmentOut:
    return CommitmentOut(
        id=view.id,
        kind=view.kind,
        title=view.title,
        promise=view.promise,
        severity=view.severity,
        calendar=view.calendar,
        within=view.within,
        below_seconds=seconds_text(view.below_seconds),
        min_peak_gbps=None if view.min_peak_gbps is None else str(view.min_peak_gbps),
        statistic=view.statistic,
        window_days=view.window_days,
        months=[_month_out(month, view.kind) for month in view.months],
        now=None if view.current is None else _day_out(view.current),
        days=[_day_out(day) for day in view.days],
    )
