"""Maintenance windows: scheduled by operators, judged against the contract's notice.

``announced`` is when a window is created (the ``now`` passed in). Whether it is scheduled
(excluded) or emergency maintenance (counted) is decided when it is read, from the
contract: :func:`slaledger.core.maintenance_suggest.notice_check`. Cancelled windows are
kept (and shown) but no longer excluded. :meth:`MaintenanceStore.events` gives every
window and classified incident as the :class:`~slaledger.core.events.Events` a settlement
takes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update

from slaledger.core.contract import Contract
from slaledger.core.events import Events, MaintenanceWindow
from slaledger.core.maintenance_suggest import NoticeCheck, notice_check
from slaledger.core.publication import (
    LAST_INSTANT,
    MaintenanceView,
    instant_text,
    maintenance_json,
    unpublishable,
)
from slaledger.core.timebase import from_instant
from slaledger.errors import Problem, UserError
from slaledger.store.audit_log import (
    ConflictError,
    NotFoundError,
    check_location,
    check_sane,
    check_services,
    check_title,
    record,
)
from slaledger.store.incident_store import IncidentStore
from slaledger.store.operations_schema import maintenance

Services = Literal["*"] | tuple[str, ...]
log = logging.getLogger("slaledger.maintenance")


MAX_WINDOW = 366 * 86_400_000_000
"""The longest maintenance window: a year."""


def _check_span(start: int, end: int, now: int) -> None:
    check_sane(start, now, "start")
    check_sane(end, now, "end")
    if end <= start:
        raise UserError(
            Problem(
                f"expected an end after start {instant_text(start)}, got {instant_text(end)}",
                field="end",
            )
        )
    if end - start > MAX_WINDOW:
        raise UserError(
            Problem(
                f"expected a window of at most 366 days, got {(end - start) // 86_400_000_000}",
                field="end",
            )
        )


def notice_for(contract: Contract, view: MaintenanceView) -> NoticeCheck:
    """The notice check of a stored window: what the operator is told."""
    return notice_check(contract, view.services, view.start, view.end, view.announced, view.title)


def _state(view: MaintenanceView) -> dict[str, Any]:
    """A window as recorded in the audit log: its JSON without its id and reason."""
    state = maintenance_json(view)
    del state["id"], state["reason"]
    return state


class MaintenanceStore:
    """Maintenance windows of ``contract`` in the store's database."""

    def __init__(self, engine: Engine, contract: Contract) -> None:
        self._engine = engine
        self.contract = contract

    def _view(self, row: Row[Any]) -> MaintenanceView:
        stored = json.loads(row.services)
        services: Services = "*" if stored == "*" else tuple(stored)
        start, end, announced = int(row.start), int(row.end), int(row.announced)
        if all(0 <= instant < LAST_INSTANT for instant in (start, end, announced)):
            check = notice_check(self.contract, services, start, end, announced, str(row.title))
        else:  # a window stored before instants were checked
            check = NoticeCheck("emergency", "its instants are out of range: correct or delete it")
        return MaintenanceView(
            id=int(row.id),
            title=str(row.title),
            services=services,
            location=row.location,
            start=start,
            end=end,
            announced=announced,
            kind=check.kind,
            reason=check.reason,
            cancelled=bool(row.cancelled),
        )

    def _row(self, connection: Connection, window_id: int, *, lock: bool = False) -> Row[Any]:
        query = select(maintenance).where(maintenance.c.id == window_id)
        row = connection.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFoundError(Problem(f"no maintenance window #{window_id}"))
        return row

    def get(self, window_id: int) -> MaintenanceView:
        with self._engine.connect() as connection:
            return self._view(self._row(connection, window_id))

    def all(self, *, include_cancelled: bool = True) -> list[MaintenanceView]:
        """Every window, soonest start first."""
        m = maintenance.c
        query = select(maintenance).order_by(m.start, m.id)
        if not include_cancelled:
            query = query.where(m.cancelled.is_(False))
        with self._engine.connect() as connection:
            return [self._view(row) for row in connection.execute(query).all()]

    def create(
        self,
        *,
        services: Sequence[str] | Literal["*"],
        title: str,
        start: int,
        end: int,
        actor: str,
        now: int,
        location: str | None = None,
    ) -> MaintenanceView:
        """Schedule a window, announced ``now``; read its ``kind`` and ``reason`` (or
        :func:`notice_for`) to tell the operator whether it has enough notice."""
        title = check_title(title)
        named = check_services(self.contract, services, star=True)
        location = check_location(location)
        _check_span(start, end, now)
        with self._engine.begin() as connection:
            result = connection.execute(
                insert(maintenance),
                {
                    "title": title,
                    "services": json.dumps(named if named == "*" else list(named)),
                    "location": location,
                    "start": start,
                    "end": end,
                    "announced": now,
                    "cancelled": False,
                    "cancelled_at": None,
                },
            )
            key = result.inserted_primary_key
            assert key is not None
            view = self._view(self._row(connection, int(key[0])))
            record(
                connection,
                at=now,
                actor=actor,
                action="maintenance.create",
                subject="maintenance",
                subject_id=view.id,
                before=None,
                after={**_state(view), "notice": notice_for(self.contract, view).message},
            )
        return view

    def cancel(self, window_id: int, *, actor: str, now: int) -> MaintenanceView:
        """Cancel a window: it is kept, shown as cancelled, and no longer excluded."""
        with self._engine.begin() as connection:
            row = self._row(connection, window_id, lock=True)
            before = self._view(row)
            if before.cancelled:
                raise ConflictError(
                    Problem(f"maintenance window #{window_id} is already cancelled")
                )
            connection.execute(
                update(maintenance)
                .where(maintenance.c.id == window_id)
                .values(cancelled=True, cancelled_at=now)
            )
            after = self._view(self._row(connection, window_id))
            record(
                connection,
                at=now,
                actor=actor,
                action="maintenance.cancel",
                subject="maintenance",
                subject_id=window_id,
                before=_state(before),
                after=_state(after),
            )
        return after

    def edit(
        self,
        window_id: int,
        *,
        actor: str,
        now: int,
        title: str | None = None,
        services: Sequence[str] | Literal["*"] | None = None,
        start: int | None = None,
        end: int | None = None,
        location: str | None = None,
        clear_location: bool = False,
    ) -> MaintenanceView:
        """Correct a mistaken window: title, services, location, start or end. New times
        are announced now (the notice is judged from the correction, so it cannot be
        backdated); a new title, services or location keep the announcement."""
        values: dict[str, Any] = {}
        if title is not None:
            values["title"] = check_title(title)
        if services is not None:
            named = check_services(self.contract, services, star=True)
            values["services"] = json.dumps(named if named == "*" else list(named))
        if location is not None or clear_location:
            values["location"] = check_location(location)
        if not values and start is None and end is None:
            raise UserError(
                Problem(
                    "expected at least one of title, services, location, start, end",
                    field="body",
                )
            )
        with self._engine.begin() as connection:
            row = self._row(connection, window_id, lock=True)
            before = self._view(row)
            first = before.start if start is None else start
            last = before.end if end is None else end
            _check_span(first, last, now)
            if (first, last) != (before.start, before.end):
                values["announced"] = now
            connection.execute(
                update(maintenance)
                .where(maintenance.c.id == window_id)
                .values(**values, start=first, end=last)
            )
            after = self._view(self._row(connection, window_id))
            record(
                connection,
                at=now,
                actor=actor,
                action="maintenance.edit",
                subject="maintenance",
                subject_id=window_id,
                before=_state(before),
                after={**_state(after), "notice": notice_for(self.contract, after).message},
            )
        return after

    def delete(self, window_id: int, *, actor: str, now: int) -> MaintenanceView:
        """Delete a mistaken window (a cancelled one stays shown; a deleted one does not).
        The audit entry keeps what it was. Returns the deleted window."""
        with self._engine.begin() as connection:
            before = self._view(self._row(connection, window_id, lock=True))
            connection.execute(delete(maintenance).where(maintenance.c.id == window_id))
            record(
                connection,
                at=now,
                actor=actor,
                action="maintenance.delete",
                subject="maintenance",
                subject_id=window_id,
                before=_state(before),
                after=None,
            )
        return before

    def windows(self) -> list[MaintenanceWindow]:
        """Windows not cancelled, as events; services the contract lacks are left out, and
        so is a window whose instants are out of range (stored before they were checked)."""
        windows = []
        for view in self.all(include_cancelled=False):
            problem = unpublishable(view)
            if problem is not None:
                log.error("maintenance window #%d is left out: %s", view.id, problem)
                continue
            services: Services = view.services
            if services != "*":
                services = tuple(s for s in services if s in self.contract.services)
                if not services:
                    continue
            windows.append(
                MaintenanceWindow(
                    services=services,
                    location=view.location,
                    start=from_instant(view.start),
                    end=from_instant(view.end),
                    announced=from_instant(view.announced),
                    title=view.title,
                )
            )
        return windows

    def events(self, contract: Contract | None = None) -> Events:
        """Every stored maintenance window and classified incident as events of
        ``contract`` (default: the store's). They pass ``check_events`` for it."""
        if contract is not None and contract is not self.contract:
            return MaintenanceStore(self._engine, contract).events()
        incidents = IncidentStore(self._engine, self.contract)
        return Events(maintenance=tuple(self.windows()), exclusions=tuple(incidents.exclusions()))
