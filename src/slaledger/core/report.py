"""What a settlement produces: per-result figures, probe counts and episodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from slaledger.core.commitment_results import CommitmentResult
from slaledger.core.credit_results import CustomerCredit
from slaledger.core.figures import decimal_text
from slaledger.core.periods import Period
from slaledger.core.timebase import format_instant

EpisodeStatus = Literal["counted", "too-short", "excluded", "emergency-maintenance"]


@dataclass(frozen=True)
class Episode:
    """A down run or interval the rule saw, whether it counted, and why."""

    start: int
    end: int
    counted_minutes: int
    status: EpisodeStatus
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": format_instant(self.start),
            "end": format_instant(self.end),
            "counted_minutes": self.counted_minutes,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ProbeCounts:
    up: int = 0
    down: int = 0
    excluded: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"up": self.up, "down": self.down, "excluded": self.excluded}


@dataclass(frozen=True)
class Result:
    """The settled figures of one service (or one location of a per-location service)."""

    service: str
    location: str | None
    rule: str
    window: str
    period: Period
    target: Decimal
    total_minutes: int | None
    downtime_minutes: int | None
    excluded_minutes: int | None
    availability: Fraction | None
    met: bool | None
    credit_percent: int
    probes: ProbeCounts
    episodes: tuple[Episode, ...] = field(default=())

    @property
    def availability_text(self) -> str | None:
        return None if self.availability is None else decimal_text(self.availability)

    def as_dict(self, report_period: Period | None = None) -> dict[str, Any]:
        """The result in the report JSON format; ``period`` only where it is not the report's."""
        fields: dict[str, Any] = {
            "service": self.service,
            "location": self.location,
            "rule": self.rule,
            "target": str(self.target),
            "total_minutes": self.total_minutes,
            "downtime_minutes": self.downtime_minutes,
            "excluded_minutes": self.excluded_minutes,
            "availability": self.availability_text,
            "met": self.met,
            "credit_percent": self.credit_percent,
            "probes": self.probes.as_dict(),
            "episodes": [episode.as_dict() for episode in self.episodes],
        }
        if report_period is not None and self.period != report_period:
            fields["period"] = self.period.as_dict()
        return fields


@dataclass(frozen=True)
class Report:
    contract: str
    period: Period
    results: tuple[Result, ...]
    commitments: tuple[CommitmentResult, ...] | None = None
    """The commitments beyond uptime, when they were settled (from records); ``None``
    leaves the section out of the JSON."""
    evaluated_at: int | None = None
    """The evaluation instant the commitments were judged at."""
    credits: tuple[CustomerCredit, ...] | None = None
    """Each customer's credit for the month (with ``--customers``); ``None`` leaves the
    section out of the JSON."""

    def as_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "contract": self.contract,
            "period": self.period.as_dict(),
            "results": [result.as_dict(self.period) for result in self.results],
        }
        if self.commitments is not None:
            fields["commitments"] = [result.as_dict() for result in self.commitments]
        if self.credits is not None:
            fields["credits"] = [credit.as_dict() for credit in self.credits]
        return fields
