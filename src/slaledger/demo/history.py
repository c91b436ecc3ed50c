"""The live demo's past: 90 days of probes, incidents, maintenance and last month's statement.

:func:`demo_history` writes it (pure, seeded; ``now`` is passed in): every check of the
contract probed at its own interval from each of its locations, answering ``200`` (a TCP
check: a connection) but for the scripted :data:`PAST` episodes. :func:`seed_store` puts
it into a store before ``slaledger serve`` starts: closed days packed straight into
segments, today's rows through the hot table like an agent's; incidents and maintenance
windows through their stores (audited as an operator's, at the instants they happened);
last month's statement issued; and the figures of the status page's bars settled, so the
page shows a product with a history from its first second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.app import Settlement, issue_statement, open_stores
from slaledger.core.checks import TcpCheck
from slaledger.core.contract import Contract
from slaledger.core.events import Events, merge_events
from slaledger.core.observations import ERROR_CODES, NO_STATUS, Observations
from slaledger.core.publication import Impact, IncidentStatus
from slaledger.core.timebase import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_MINUTE,
    US_PER_SECOND,
    from_instant,
)
from slaledger.demo.history_records import history_records
from slaledger.status.figures_job import FiguresJob
from slaledger.store.figure_store import FigureStore
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.record_store import RecordStore
from slaledger.store.tiers import Stores

HISTORY_DAYS = 90
"""Days of probes before the demo starts (the status page's bars show 90)."""

OPERATOR = "demo-operator"
DEFAULT_LOCATIONS = ("fra", "ams")
"""Where a check that names no location runs."""


@dataclass(frozen=True)
class PastEpisode:
    """``minutes`` of ``failure`` for ``service`` at ``locations``, ``days_ago`` days before
    today at ``hour``:``minute`` UTC, with the incident the operator wrote about it (if any).

    ``updates`` are (minutes after the start, status, text); the last one resolves it.
    """

    days_ago: int
    hour: int
    minute: int
    minutes: int
    service: str
    locations: tuple[str, ...]
    status: int = NO_STATUS
    error: str | None = None
    title: str | None = None
    impact: Impact = "minor"
    updates: tuple[tuple[int, IncidentStatus, str], ...] = ()

    def start(self, today: int) -> int:
        return (
            today
            - self.days_ago * US_PER_DAY
            + self.hour * US_PER_HOUR
            + self.minute * US_PER_MINUTE
        )

    def end(self, today: int) -> int:
        return self.start(today) + self.minutes * US_PER_MINUTE


@dataclass(frozen=True)
class PastMaintenance:
    """A window ``days_ago`` days before today (negative: ahead), announced ``notice_days``
    before its start (ahead: announced as the demo starts)."""

    days_ago: int
    hour: int
    minutes: int
    title: str
    services: tuple[str, ...]
    notice_days: int
    location: str | None = None

    def start(self, today: int) -> int:
        return today - self.days_ago * US_PER_DAY + self.hour * US_PER_HOUR

    def end(self, today: int) -> int:
        return self.start(today) + self.minutes * US_PER_MINUTE


PAST: tuple[PastEpisode, ...] = (
    PastEpisode(
        days_ago=2,
        hour=9,
        minute=14,
        minutes=14,
        service="web",
        locations=("fra", "ams"),
        status=502,
        title="Web application returning errors",
        impact="major",
        updates=(
            (3, "investigating", "The web application answers 502 from both locations."),
            (9, "identified", "A faulty release of the session service; rolling it back."),
            (16, "resolved", "The release is rolled back and the errors have stopped."),
        ),
    ),
    PastEpisode(
        days_ago=11,
        hour=15,
        minute=40,
        minutes=25,
        service="api",
        locations=("fra", "ams"),
        error="timeout",
        title="Public API timeouts",
        impact="major",
        updates=(
            (4, "investigating", "Requests to the public API time out."),
            (12, "identified", "A database failover is under way."),
            (20, "monitoring", "The failover is complete; response times are recovering."),
            (30, "resolved", "The API answers normally again."),
        ),
    ),
    PastEpisode(
        days_ago=26,
        hour=3,
        minute=5,
        minutes=6,
        service="edge",
        locations=("ams",),
        error="connect",
        title="Amsterdam PoP unreachable",
        impact="major",
        updates=(
            (2, "investigating", "The Amsterdam point of presence does not accept connections."),
            (8, "resolved", "An upstream carrier restored the link."),
        ),
    ),
    PastEpisode(  # inside the Database upgrade window below: excluded
        days_ago=47,
        hour=22,
        minute=10,
        minutes=20,
        service="web",
        locations=("fra", "ams"),
        status=503,
    ),
    PastEpisode(
        days_ago=63,
        hour=12,
        minute=30,
        minutes=8,
        service="api",
        locations=("fra", "ams"),
        status=500,
        title="Elevated API error rate",
        impact="minor",
        updates=(
            (2, "investigating", "Some API requests fail with 500."),
            (10, "resolved", "A misconfigured cache node was taken out of rotation."),
        ),
    ),
)
"""The scripted past: four incidents an operator wrote about, and downtime in maintenance."""

MAINTENANCE: tuple[PastMaintenance, ...] = (
    PastMaintenance(47, 22, 45, "Database upgrade", ("web", "api"), notice_days=5),
    PastMaintenance(75, 2, 30, "Switch replacement", ("edge",), notice_days=7, location="fra"),
    PastMaintenance(-9, 6, 30, "Load balancer upgrade", ("web", "api"), notice_days=9),
)
"""Two past windows (scheduled: announced days ahead) and one ahead of the demo."""


def demo_history(
    contract: Contract, now: int, days: int = HISTORY_DAYS, seed: int = 11
) -> Observations:
    """Probes of ``contract``'s checks over the ``days`` before ``now`` (from midnight UTC
    ``days`` days before today) up to ``now``, with the :data:`PAST` episodes."""
    today = now // US_PER_DAY * US_PER_DAY
    first = today - days * US_PER_DAY
    rng = np.random.default_rng(seed)
    services = tuple(contract.services)
    locations: list[str] = []
    parts: list[tuple[NDArray[np.int64], int, int, bool]] = []
    for s, measured in enumerate(contract.services.values()):
        for c, check in enumerate(measured.checks):
            for where in check.locations or DEFAULT_LOCATIONS:
                if where not in locations:
                    locations.append(where)
                phase = ((7 * s + 3 * c + 5 * locations.index(where)) % 10) * US_PER_SECOND
                count = max(0, (now - first - phase + check.interval - 1) // check.interval)
                stamps = first + phase + np.arange(count, dtype=np.int64) * check.interval
                stamps += rng.integers(0, 300_000, size=count, dtype=np.int64)
                stamps = stamps[stamps < now]
                parts.append((stamps, s, locations.index(where), isinstance(check, TcpCheck)))
    timestamp = np.concatenate([p[0] for p in parts])
    service = np.concatenate([np.full(p[0].size, p[1], np.int32) for p in parts])
    location = np.concatenate([np.full(p[0].size, p[2], np.int16) for p in parts])
    tcp = np.concatenate([np.full(p[0].size, p[3], bool) for p in parts])
    status = np.where(tcp, NO_STATUS, 200).astype(np.int16)
    error = np.zeros(timestamp.size, np.int8)
    retry_after = np.zeros(timestamp.size, bool)
    for episode in PAST:
        if episode.service not in services:
            continue
        start, end = episode.start(today), episode.end(today)
        hit = (timestamp >= start) & (timestamp < end)
        hit &= service == services.index(episode.service)
        hit &= np.isin(location, [locations.index(w) for w in episode.locations if w in locations])
        status[hit] = episode.status
        error[hit] = 0 if episode.error is None else ERROR_CODES[episode.error]
    order = np.lexsort((location, service, timestamp))
    return Observations(
        timestamp=timestamp[order],
        service=service[order],
        location=location[order],
        status=status[order],
        error=error[order],
        retry_after=retry_after[order],
        services=services,
        locations=tuple(locations),
    )


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed_store` put into the store."""

    observations: int
    incidents: int
    maintenance: int
    statement: str | None
    figures: int
    records: int = 0
    """Tickets, DDoS events and provisioning requests for the commitments."""


def seed_store(db_url: str, contract: Contract, now: int, file_events: Events) -> Seeded:
    """Write the demo's past into the (new) store at ``db_url``; see the module's doc."""
    stores = open_stores(db_url)
    today = now // US_PER_DAY * US_PER_DAY
    history = demo_history(contract, now)
    closed = history.timestamp < today
    stored = stores.observations.pack_history(history.take(closed))
    stored += stores.observations.ingest(
        history.take(~closed), received_at=now, source="slaledger demo history"
    ).stored
    windows = _maintenance(stores, contract, today, now)
    incidents = _incidents(stores, contract, today)
    records = 0
    if contract.commitments:
        seeded = history_records(now)
        RecordStore(stores.engine).store(contract.contract, seeded, now=now, actor=OPERATOR)
        records = len(seeded)
    # Figures first: they issue every past month's statement, oldest first (the chain's order).
    figures = _figures(stores, contract, file_events, now)
    statement = _last_statement(stores, contract, file_events, now)
    return Seeded(stored, incidents, windows, statement, figures, records)


def _maintenance(stores: Stores, contract: Contract, today: int, now: int) -> int:
    store = MaintenanceStore(stores.engine, contract)
    created = 0
    for window in MAINTENANCE:
        services = tuple(name for name in window.services if name in contract.services)
        if not services:
            continue
        start = window.start(today)
        announced = min(start - window.notice_days * US_PER_DAY, now)
        store.create(
            services=services,
            title=window.title,
            start=start,
            end=window.end(today),
            actor=OPERATOR,
            now=announced,
            location=window.location,
        )
        created += 1
    return created


def _incidents(stores: Stores, contract: Contract, today: int) -> int:
    store = IncidentStore(stores.engine, contract)
    opened = 0
    for episode in PAST:
        if episode.title is None or episode.service not in contract.services:
            continue
        start = episode.start(today)
        (first_after, first_status, first_body), *later = episode.updates
        assert first_status != "resolved"
        view = store.open(
            title=episode.title,
            services=(episode.service,),
            impact=episode.impact,
            actor=OPERATOR,
            now=start + first_after * US_PER_MINUTE,
            status=first_status,
            started=start,
            body=first_body,
            location=episode.locations[0] if len(episode.locations) == 1 else None,
        )
        for after, status, body in later:
            at = start + after * US_PER_MINUTE
            if status == "resolved":
                store.resolve(view.id, actor=OPERATOR, now=at, at=episode.end(today), body=body)
            else:
                store.add_update(
                    view.id,
                    status=status,
                    body=body,
                    actor=OPERATOR,
                    now=at,
                )
        opened += 1
    return opened


def _last_statement(
    stores: Stores, contract: Contract, file_events: Events, now: int
) -> str | None:
    """Issue last month's statement, as an operator would once it is over."""
    local = from_instant(now).astimezone(contract.zone)
    month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    statement, _new = issue_statement(
        stores, Settlement(contract, file_events, month, None), now=now
    )
    return statement.month


def _figures(stores: Stores, contract: Contract, file_events: Events, now: int) -> int:
    """Settle every day bar and month figure the page shows, as the server would over time."""
    maintenance = MaintenanceStore(stores.engine, contract)

    def events() -> Events:
        return merge_events(file_events, maintenance.events())

    job = FiguresJob(
        contract, stores, FigureStore(stores.engine, contract.contract), events, budget=1000
    )
    return job.run(now)
