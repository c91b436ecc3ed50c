"""Which time is excluded for each service: scheduled maintenance and allowed exclusions.

Maintenance is *scheduled* (excluded) only when announced at least the service's notice
ahead; otherwise it is *emergency* maintenance and counts like any other time. Exclusion
windows must carry a cause the service allows. A window with a ``location`` applies to that
location's observations only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from slaledger.core.contract import Contract, Service
from slaledger.core.durations import format_duration
from slaledger.core.events import Events, ExclusionWindow, MaintenanceWindow, Window
from slaledger.core.intervals import IntervalSet
from slaledger.core.timebase import to_instant

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class EventProblem:
    """A semantic mistake in an events file, located by its path in the document."""

    path: Path
    message: str


@dataclass(frozen=True)
class Emergency:
    """Maintenance that missed its notice: shown, and counted as downtime."""

    start: int
    end: int
    location: str | None
    reason: str


@dataclass
class ServiceWindows:
    """The excluded time of one service: service-wide and per location."""

    everywhere: IntervalSet = field(default_factory=IntervalSet.empty)
    by_location: dict[str, IntervalSet] = field(default_factory=dict)
    emergencies: list[Emergency] = field(default_factory=list)

    def for_location(self, location: str) -> IntervalSet:
        """Time excluded for one location: service-wide windows and its own."""
        own = self.by_location.get(location)
        return self.everywhere if own is None else self.everywhere.union(own)

    def add(self, location: str | None, start: int, end: int) -> None:
        window = IntervalSet.of([(start, end)])
        if location is None:
            self.everywhere = self.everywhere.union(window)
        else:
            self.by_location[location] = self.by_location.get(location, IntervalSet.empty()).union(
                window
            )


def check_events(contract: Contract, events: Events) -> list[EventProblem]:
    """Every window that names an unknown service or a cause the contract forbids."""
    problems: list[EventProblem] = []
    windows: list[tuple[str, int, Window]] = [
        *(("maintenance", i, w) for i, w in enumerate(events.maintenance)),
        *(("exclusions", i, w) for i, w in enumerate(events.exclusions)),
    ]
    known = ", ".join(contract.services)
    for kind, index, window in windows:
        if window.services != "*":
            for position, name in enumerate(window.services):
                if name not in contract.services:
                    problems.append(
                        EventProblem(
                            (kind, index, "services", position),
                            f"unknown service {name!r}; "
                            f"contract {contract.contract!r} has: {known}",
                        )
                    )
        if isinstance(window, ExclusionWindow):
            for service_id, service in _named_services(contract, window):
                if window.cause not in service.excludable_causes:
                    allowed = ", ".join(service.excludable_causes) or "none"
                    problems.append(
                        EventProblem(
                            (kind, index, "cause"),
                            f"contract {contract.contract!r} does not let service "
                            f"{service_id!r} exclude cause {window.cause!r} (allowed: {allowed})",
                        )
                    )
                    break
    return problems


def _named_services(contract: Contract, window: Window) -> Iterator[tuple[str, Service]]:
    for service_id, service in contract.services.items():
        if window.names(service_id):
            yield service_id, service


def maintenance_verdict(service: Service, window: MaintenanceWindow) -> tuple[bool, str]:
    """Whether ``window`` is scheduled (excluded) for ``service``, and why."""
    title = f"maintenance {window.title!r}" if window.title else "maintenance"
    if service.maintenance is None:
        return False, f"{title}: the contract excludes no maintenance for this service"
    lead = to_instant(window.start) - to_instant(window.announced)
    notice = service.maintenance.notice
    if lead >= notice:
        return True, f"scheduled {title}, announced {_lead_text(lead)} ahead"
    return False, (
        f"emergency {title}: announced {_lead_text(lead)} before its start, "
        f"less than the {format_duration(notice)} notice"
    )


def _lead_text(us: int) -> str:
    if us < 0:
        return "after its start (" + _lead_text(-us) + " late)"
    minutes, seconds = divmod(us // 1_000_000, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        text = f"{hours}h"
        if minutes or seconds:
            text += f"{minutes:02d}m"
        return text + (f"{seconds:02d}s" if seconds else "")
    return (f"{minutes}m" if minutes else "") + (f"{seconds}s" if seconds else "") or "0m"


def resolve_windows(contract: Contract, events: Events) -> dict[str, ServiceWindows]:
    """Excluded time and emergency maintenance for each service of ``contract``.

    ``events`` must have passed :func:`check_events`.
    """
    resolved = {service_id: ServiceWindows() for service_id in contract.services}
    for window in events.maintenance:
        start, end = to_instant(window.start), to_instant(window.end)
        for service_id, service in _named_services(contract, window):
            scheduled, reason = maintenance_verdict(service, window)
            if scheduled:
                resolved[service_id].add(window.location, start, end)
            else:
                resolved[service_id].emergencies.append(
                    Emergency(start, end, window.location, reason)
                )
    for exclusion in events.exclusions:
        start, end = to_instant(exclusion.start), to_instant(exclusion.end)
        for service_id, _service in _named_services(contract, exclusion):
            resolved[service_id].add(exclusion.location, start, end)
    return resolved
