"""What keeps the public view current. Time is passed in.

- :meth:`Publisher.tick`, once a minute: the windows in force, automatic incidents, and a
  new status snapshot (the month to date settled again).
- :meth:`Publisher.maintain`, beside it: figures of closed days and months (issuing
  statements), and retention once a day; slow when catching up on years of history, so it
  never holds up a snapshot.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from slaledger.core.commitments import RecordSet, calendar_names
from slaledger.core.contract import Contract
from slaledger.core.events import Events, merge_events
from slaledger.core.live import live_report
from slaledger.core.publication import IncidentView, MaintenanceView, StatusSnapshot
from slaledger.core.statement_chain import Signer
from slaledger.core.timebase import US_PER_DAY, US_PER_MINUTE
from slaledger.files.business_calendars import calendar_of
from slaledger.status.commitment_figures import CommitmentFigures, RecordSource
from slaledger.status.figures_job import FiguresJob
from slaledger.status.snapshot_builder import SnapshotBuilder
from slaledger.store.figure_store import FigureStore
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.tiers import DEFAULT_MINUTE_DAYS, DEFAULT_RAW_DAYS, Stores, retain

log = logging.getLogger("slaledger.publisher")

OnChange = Callable[[IncidentView | MaintenanceView], None]


def live_json(document: dict[str, object]) -> bytes:
    """Compact UTF-8 JSON, as the API writes it."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class Publisher:
    def __init__(
        self,
        contract: Contract,
        file_events: Events,
        stores: Stores,
        incidents: IncidentStore,
        maintenance: MaintenanceStore,
        figures: FigureStore,
        *,
        on_change: OnChange | None = None,
        raw_days: int = DEFAULT_RAW_DAYS,
        minute_days: int = DEFAULT_MINUTE_DAYS,
        title: str | None = None,
        records: RecordSource | None = None,
        signer: Signer | None = None,
    ) -> None:
        self._contract = contract
        self._file_events = file_events
        self._stores = stores
        self._incidents = incidents
        self._maintenance = maintenance
        self._on_change = on_change or (lambda _view: None)
        self._raw_days = raw_days
        self._minute_days = minute_days
        calendars = {name: calendar_of(contract, name) for name in calendar_names(contract)}
        self.figures_job = FiguresJob(
            contract,
            stores,
            figures,
            self.events,
            records=None if records is None else lambda: RecordSet.of(records.records()),
            calendars=calendars,
            signer=signer,
        )
        commitments = None
        if records is not None and contract.commitments:
            commitments = CommitmentFigures(contract, calendars, records)
        self.builder = SnapshotBuilder(
            contract, stores, figures, incidents, maintenance, file_events, title, commitments
        )
        self._retained_day: int | None = None
        self._lock = threading.Lock()
        self._maintenance_lock = threading.Lock()
        self.live_body = b""
        """The month to date as ``GET /api/v1/live`` serves it, from the latest tick."""
        self.snapshot: StatusSnapshot | None = None
        """The latest snapshot; ``None`` until the first :meth:`tick`."""

    def events(self) -> Events:
        """The events file's windows and the operators' (maintenance, classified incidents)."""
        return merge_events(self._file_events, self._maintenance.events())

    def tick(self, now: int) -> StatusSnapshot:
        with self._lock:
            events = self.events()
            self.builder.set_events(events)
            live = self.builder.live(now)
            recent = self._stores.observations.load(now - 3 * US_PER_MINUTE, now)
            for view in self._incidents.sync_automatic(
                live.own, now, observations=recent, events=events
            ):
                log.info("automatic incident #%d: %s (%s)", view.id, view.title, view.status)
                self._on_change(view)
            self.live_body = live_json(live_report(live.own, live.data, now).as_dict())
            self.snapshot = self.builder.build(now, live)
            return self.snapshot

    def maintain(self, now: int) -> int:
        """Figures due (a few periods at a time) and, once a day, retention; returns how many
        figures were written (0: nothing was due)."""
        with self._maintenance_lock:
            written = self.figures_job.run(now)
            if self._retained_day != now // US_PER_DAY:
                self._retain(now)
            return written

    def _retain(self, now: int) -> None:
        # Under the snapshot's lock: a day moving from raw to runs while the month is read
        # could be read twice or not at all.
        with self._lock:
            try:
                outcome = retain(
                    self._stores,
                    self._contract,
                    now=now,
                    raw_days=self._raw_days,
                    minute_days=self._minute_days,
                )
            except Exception:
                log.exception("retention failed; trying again in a day")
            else:
                if outcome.days_rolled_up or outcome.minute_rows_pruned:
                    log.info(
                        "retention: %d days to minute runs, %d day-series pruned",
                        outcome.days_rolled_up,
                        outcome.minute_rows_pruned,
                    )
            self._retained_day = now // US_PER_DAY

    def latest(self) -> StatusSnapshot:
        """The latest snapshot (built on first use)."""
        if self.snapshot is None:
            raise RuntimeError("no snapshot yet: call tick() first")
        return self.snapshot
