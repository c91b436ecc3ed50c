"""Maintenance notice checks and the lowest-traffic window to propose. Pure: no I/O, no clock.

*Notice check.* A window is *scheduled* (excluded) for a service when it is announced at
least the service's ``maintenance.notice`` before its start (the rule of
:func:`slaledger.core.windows.maintenance_verdict`), otherwise *emergency* maintenance that
counts as downtime. A window naming several services is emergency maintenance when it is
for any of them; the message says for which.

*Suggestion.* Candidate windows start on UTC hours, no earlier than ``now`` plus the notice
and ending within the horizon (14 days from ``now``). The expected requests of an hour are
its own count when the traffic file has that hour (a forecast), otherwise the mean of the
file's counts at the same hour of the week (a history). Windows with an hour that has
neither, or overlapping ``busy`` time, are skipped. Lowest expected total wins; ties go to
the earliest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from slaledger.core.contract import Contract
from slaledger.core.durations import format_duration
from slaledger.core.events import MaintenanceWindow
from slaledger.core.publication import MaintenanceKind
from slaledger.core.timebase import US_PER_DAY, US_PER_HOUR, format_instant, from_instant
from slaledger.core.windows import maintenance_verdict
from slaledger.errors import Problem, UsageError

HORIZON = 14 * US_PER_DAY
HOURS_PER_WEEK = 7 * 24

Services = Literal["*"] | tuple[str, ...]


@dataclass(frozen=True)
class NoticeCheck:
    kind: MaintenanceKind
    message: str
    """What the operator is told, scheduled or not."""

    @property
    def reason(self) -> str:
        """Why it is emergency maintenance; empty when scheduled."""
        return self.message if self.kind == "emergency" else ""


def span_text(us: int) -> str:
    """A duration as ``3h``, ``85h19m30s``, ``45m`` or ``20s``."""
    minutes, seconds = divmod(abs(us) // 1_000_000, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{seconds}s" if seconds else "")
    return "".join(parts) or "0s"


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def notice_check(
    contract: Contract, services: Services, start: int, end: int, announced: int, title: str = ""
) -> NoticeCheck:
    """Whether a window for ``services`` announced at ``announced`` is scheduled, and why."""
    window = MaintenanceWindow(
        services=services,
        start=from_instant(start),
        end=from_instant(end),
        announced=from_instant(announced),
        title=title,
    )
    named = [sid for sid in contract.services if window.names(sid)]
    needs: dict[str, list[str]] = defaultdict(list)
    excluded: list[str] = []
    counted: list[str] = []
    for service_id in named:
        service = contract.services[service_id]
        scheduled, _reason = maintenance_verdict(service, window)
        (excluded if scheduled else counted).append(service_id)
        if service.maintenance is None:
            needs["no maintenance"].append(service_id)
        else:
            needs[format_duration(service.maintenance.notice) + " notice"].append(service_id)
    lead = start - announced
    when = f"{span_text(lead)} {'before' if lead >= 0 else 'after'} its start"
    rules = []
    for need, ids in needs.items():
        if need == "no maintenance":
            rules.append(f"{_and(ids)} {'excludes' if len(ids) == 1 else 'exclude'} no maintenance")
        else:
            rules.append(f"{_and(ids)} {'needs' if len(ids) == 1 else 'need'} {need}")
    head = f"announced {when}; {', '.join(rules)}"
    if not counted:
        return NoticeCheck("scheduled", f"scheduled maintenance: {head} — excluded from downtime")
    consequence = "this window counts as downtime"
    if excluded:
        consequence += f" for {_and(counted)} (it is excluded for {_and(excluded)})"
    return NoticeCheck("emergency", f"emergency maintenance: {head} — {consequence}")


# --- Suggestion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    start: int
    end: int
    expected_requests: Fraction
    forecast_hours: int
    """Hours whose count the file gives; the others come from the weekly profile."""
    profile_weeks: int
    """Most weeks of history averaged for one hour of the window (0: forecast only)."""


def _hour_of_week(hour_start: int) -> int:
    return (hour_start // US_PER_HOUR) % HOURS_PER_WEEK


def suggest_window(
    traffic: Mapping[int, int],
    duration: int,
    earliest: int,
    latest_end: int,
    busy: Sequence[tuple[int, int]] = (),
) -> Suggestion | None:
    """The lowest-traffic window of ``duration`` (whole hours) starting on a UTC hour at or
    after ``earliest`` and ending by ``latest_end``; ``None`` when no window can be estimated.
    """
    if duration <= 0 or duration % US_PER_HOUR:
        raise UsageError(
            Problem(
                f"expected a whole number of hours, e.g. 2h, got {format_duration(duration)}",
                field="--duration",
            )
        )
    sums: dict[int, int] = defaultdict(int)
    weeks: dict[int, int] = defaultdict(int)
    for hour, requests in traffic.items():
        sums[_hour_of_week(hour)] += requests
        weeks[_hour_of_week(hour)] += 1
    hours = duration // US_PER_HOUR
    best: Suggestion | None = None
    start = -(-earliest // US_PER_HOUR) * US_PER_HOUR
    while start + duration <= latest_end:
        end = start + duration
        if not any(lo < end and start < hi for lo, hi in busy):
            candidate = _estimate(traffic, sums, weeks, start, hours)
            if candidate is not None and (
                best is None or candidate.expected_requests < best.expected_requests
            ):
                best = candidate
        start += US_PER_HOUR
    return best


def _estimate(
    traffic: Mapping[int, int],
    sums: Mapping[int, int],
    weeks: Mapping[int, int],
    start: int,
    hours: int,
) -> Suggestion | None:
    total = Fraction(0)
    forecast = 0
    profile_weeks = 0
    for index in range(hours):
        hour = start + index * US_PER_HOUR
        if hour in traffic:
            total += traffic[hour]
            forecast += 1
            continue
        slot = _hour_of_week(hour)
        if slot not in weeks:
            return None
        total += Fraction(sums[slot], weeks[slot])
        profile_weeks = max(profile_weeks, weeks[slot])
    return Suggestion(start, start + hours * US_PER_HOUR, total, forecast, profile_weeks)


def maintenance_notice(contract: Contract, service: str) -> int:
    """The notice ``service`` needs (0 when its contract excludes no maintenance)."""
    policy = contract.services[service].maintenance
    return 0 if policy is None else policy.notice


def requests_text(value: Fraction) -> str:
    """Expected requests rounded half-even to a whole number, with thousands separators."""
    return f"{round(value):,}"


def describe_suggestion(
    contract: Contract, service: str, suggestion: Suggestion, now: int
) -> list[str]:
    """The lines ``maintenance suggest`` prints: window, expected requests, notice check."""
    length = span_text(suggestion.end - suggestion.start)
    source = "the traffic file's own counts"
    if suggestion.profile_weeks:
        plural = "s" if suggestion.profile_weeks > 1 else ""
        source = f"mean of {suggestion.profile_weeks} week{plural} at these hours of the week"
        if suggestion.forecast_hours:
            source += f" and {suggestion.forecast_hours} hour(s) as given"
    check = notice_check(contract, (service,), suggestion.start, suggestion.end, now)
    return [
        f"suggested maintenance for {service}: {format_instant(suggestion.start)} → "
        f"{format_instant(suggestion.end)} ({length})",
        f"expected requests: {requests_text(suggestion.expected_requests)} ({source})",
        f"notice: if created now ({format_instant(now)}), {check.message}",
    ]
