"""Incidents: opened by operators or by the contract's rule, updated, classified, resolved.

Every write runs in one transaction together with its audit entry. Update bodies are
Markdown, kept as written and rendered to sanitised HTML when stored. Classifying an
incident's time as an exclusion needs a cause every one of its services may exclude.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update

from slaledger.core.contract import Contract
from slaledger.core.events import Events, ExclusionWindow
from slaledger.core.incident_detection import Decisions, OpenAutomatic, detect_incidents
from slaledger.core.markdown_text import render_markdown
from slaledger.core.observations import Observations
from slaledger.core.publication import (
    IMPACTS,
    INCIDENT_STATUSES,
    LAST_INSTANT,
    Impact,
    IncidentStatus,
    IncidentUpdate,
    IncidentView,
    incident_json,
    instant_text,
)
from slaledger.core.report import Report
from slaledger.core.timebase import format_instant, from_instant
from slaledger.errors import Problem, UserError
from slaledger.store.audit_log import (
    AUTOMATIC_ACTOR,
    ConflictError,
    NotFoundError,
    check_body,
    check_choice,
    check_location,
    check_not_after,
    check_sane,
    check_services,
    check_title,
    record,
)
from slaledger.store.operations_schema import incident_updates, incidents

log = logging.getLogger("slaledger.incidents")


def _state(view: IncidentView) -> dict[str, Any]:
    """An incident as recorded in the audit log: its JSON without its id and updates."""
    state = incident_json(view)
    del state["id"], state["updates"]
    return state


class IncidentStore:
    """Incidents of ``contract`` in the store's database."""

    def __init__(self, engine: Engine, contract: Contract) -> None:
        self._engine = engine
        self.contract = contract

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- reading -------------------------------------------------------------------------

    def get(self, incident_id: int) -> IncidentView:
        with self._engine.connect() as connection:
            return self._view(connection, incident_id)

    def all(self, *, active: bool | None = None, limit: int = 100) -> list[IncidentView]:
        """Incidents newest first; ``active``: only unresolved (True) or resolved (False)."""
        query = select(incidents.c.id).order_by(incidents.c.started.desc(), incidents.c.id.desc())
        if active is not None:
            column = incidents.c.resolved
            query = query.where(column.is_(None) if active else column.is_not(None))
        with self._engine.connect() as connection:
            ids = connection.execute(query.limit(limit)).scalars().all()
            return [self._view(connection, int(i)) for i in ids]

    def exclusions(self) -> list[ExclusionWindow]:
        """The time of every classified incident, as exclusion windows of its services that
        (still) allow its cause."""
        i = incidents.c
        query = (
            select(incidents)
            .where(i.exclusion_cause.is_not(None))
            .order_by(i.exclusion_start, i.id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        windows = []
        for row in rows:
            cause = str(row.exclusion_cause)
            allowed = tuple(
                name
                for name in json.loads(row.services)
                if name in self.contract.services
                and cause in self.contract.services[name].excludable_causes
            )
            start, end = int(row.exclusion_start), int(row.exclusion_end)
            if not (0 <= start < end < LAST_INSTANT):  # classified before instants were checked
                log.error("incident #%d: its excluded time is out of range; left out", row.id)
                continue
            if allowed:
                windows.append(
                    ExclusionWindow(
                        services=allowed,
                        location=row.location,
                        start=from_instant(start),
                        end=from_instant(end),
                        cause=cause,
                        note=f"incident #{row.id}: {row.title}",
                    )
                )
        return windows

    def update_sources(self, incident_id: int) -> list[tuple[int, str, str, str]]:
        """The updates as written: (at, status, author, Markdown), oldest first."""
        u = incident_updates.c
        with self._engine.connect() as connection:
            self._row(connection, incident_id)
            rows = connection.execute(
                select(u.at, u.status, u.author, u.body_markdown)
                .where(u.incident_id == incident_id)
                .order_by(u.at, u.id)
            ).all()
        return [(int(r.at), str(r.status), str(r.author), str(r.body_markdown)) for r in rows]

    def exclusion_of(self, incident_id: int) -> tuple[int, int] | None:
        """The excluded time of a classified incident, else ``None``."""
        with self._engine.connect() as connection:
            row = self._row(connection, incident_id)
        if row.exclusion_cause is None:
            return None
        return int(row.exclusion_start), int(row.exclusion_end)

    def _row(self, connection: Connection, incident_id: int, *, lock: bool = False) -> Row[Any]:
        query = select(incidents).where(incidents.c.id == incident_id)
        row = connection.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFoundError(Problem(f"no incident #{incident_id}"))
        return row

    def _view(self, connection: Connection, incident_id: int) -> IncidentView:
        row = self._row(connection, incident_id)
        u = incident_updates.c
        updates = connection.execute(
            select(u.at, u.status, u.body_html, u.author)
            .where(u.incident_id == incident_id)
            .order_by(u.at, u.id)
        ).all()
        return IncidentView(
            id=int(row.id),
            title=str(row.title),
            services=tuple(json.loads(row.services)),
            status=row.status,
            impact=row.impact,
            started=int(row.started),
            resolved=None if row.resolved is None else int(row.resolved),
            automatic=bool(row.automatic),
            exclusion_cause=row.exclusion_cause,
            updates=tuple(
                IncidentUpdate(int(x.at), x.status, str(x.body_html), str(x.author))
                for x in updates
            ),
        )

    # -- writing -------------------------------------------------------------------------

    def open(
        self,
        *,
        title: str,
        services: Sequence[str] | Literal["*"],
        impact: Impact,
        actor: str,
        now: int,
        status: IncidentStatus = "investigating",
        started: int | None = None,
        body: str = "",
        location: str | None = None,
    ) -> IncidentView:
        """Open an incident (operator); ``body``, when given, is its first update."""
        title = check_title(title)
        named = check_services(self.contract, services, star=False)
        assert named != "*"
        check_choice(impact, IMPACTS, "impact")
        check_choice(status, INCIDENT_STATUSES, "status")
        if status == "resolved":
            raise UserError(
                Problem(
                    "expected an open status (investigating, identified or monitoring)",
                    field="status",
                )
            )
        start = now if started is None else started
        check_not_after(start, now, "started")
        if body:
            check_body(body)
        location = check_location(location)
        with self._engine.begin() as connection:
            incident_id = self._insert(
                connection, title, named, location, impact, status, start, now, automatic=False
            )
            if body:
                self._add_update(connection, incident_id, now, status, body, actor)
            view = self._view(connection, incident_id)
            record(
                connection,
                at=now,
                actor=actor,
                action="incident.open",
                subject="incident",
                subject_id=incident_id,
                before=None,
                after={**_state(view), **({"update": body} if body else {})},
            )
        return view

    def _insert(
        self,
        connection: Connection,
        title: str,
        services: Sequence[str],
        location: str | None,
        impact: str,
        status: str,
        started: int,
        now: int,
        *,
        automatic: bool,
        detection_key: str | None = None,
    ) -> int:
        result = connection.execute(
            insert(incidents),
            {
                "title": title,
                "services": json.dumps(list(services)),
                "location": location,
                "impact": impact,
                "status": status,
                "started": started,
                "resolved": None,
                "automatic": automatic,
                "detection_key": detection_key,
                "exclusion_cause": None,
                "exclusion_start": None,
                "exclusion_end": None,
                "created_at": now,
                "updated_at": now,
            },
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def _add_update(
        self, connection: Connection, incident_id: int, at: int, status: str, body: str, author: str
    ) -> None:
        connection.execute(
            insert(incident_updates),
            {
                "incident_id": incident_id,
                "at": at,
                "status": status,
                "body_markdown": body,
                "body_html": render_markdown(body),
                "author": author,
            },
        )

    def _change(
        self,
        incident_id: int,
        *,
        actor: str,
        now: int,
        action: str,
        values: dict[str, Any],
        post: tuple[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        check: Any = None,
    ) -> IncidentView:
        """Apply ``values`` (and post ``post`` = (status, body)) with its audit entry."""
        with self._engine.begin() as connection:
            self._row(connection, incident_id, lock=True)
            before = self._view(connection, incident_id)
            if check is not None:
                values = {**values, **check(before)}
            connection.execute(
                update(incidents)
                .where(incidents.c.id == incident_id)
                .values(**values, updated_at=now)
            )
            if post is not None:
                self._add_update(connection, incident_id, now, post[0], post[1], actor)
            after = self._view(connection, incident_id)
            record(
                connection,
                at=now,
                actor=actor,
                action=action,
                subject="incident",
                subject_id=incident_id,
                before=_state(before),
                after={**_state(after), **(extra or {})},
            )
        return after

    def add_update(
        self, incident_id: int, *, status: IncidentStatus, body: str, actor: str, now: int
    ) -> IncidentView:
        """Post an update; status ``resolved`` resolves the incident now, another status
        reopens a resolved one."""
        check_choice(status, INCIDENT_STATUSES, "status")
        check_body(body)

        def resolution(before: IncidentView) -> dict[str, Any]:
            if status == "resolved":
                return {"resolved": before.resolved if before.resolved is not None else now}
            return {"resolved": None}

        return self._change(
            incident_id,
            actor=actor,
            now=now,
            action="incident.update",
            values={"status": status},
            post=(status, body),
            extra={"update": body},
            check=resolution,
        )

    def resolve(
        self, incident_id: int, *, actor: str, now: int, at: int | None = None, body: str = ""
    ) -> IncidentView:
        """Resolve at ``at`` (default: now); ``body``, when given, is posted as an update."""
        resolved = now if at is None else at
        check_not_after(resolved, now, "resolved")
        if body:
            check_body(body)

        def check(before: IncidentView) -> dict[str, Any]:
            if before.resolved is not None:
                raise ConflictError(
                    Problem(
                        f"incident #{incident_id} is already resolved "
                        f"(at {format_instant(before.resolved)})"
                    )
                )
            if resolved < before.started:
                raise UserError(
                    Problem(
                        f"expected an instant after the incident started "
                        f"({format_instant(before.started)}), got {format_instant(resolved)}",
                        field="resolved",
                    )
                )
            return {}

        return self._change(
            incident_id,
            actor=actor,
            now=now,
            action="incident.resolve",
            values={"status": "resolved", "resolved": resolved},
            post=("resolved", body) if body else None,
            extra={"update": body} if body else None,
            check=check,
        )

    def classify(
        self,
        incident_id: int,
        *,
        cause: str,
        actor: str,
        now: int,
        start: int | None = None,
        end: int | None = None,
    ) -> IncidentView:
        """Exclude the incident's time (started → resolved, or ``start`` → ``end``) with
        ``cause``, which each of its services must allow."""
        contract = self.contract

        def check(before: IncidentView) -> dict[str, Any]:
            for service_id in before.services:
                service = contract.services.get(service_id)
                if service is not None and cause not in service.excludable_causes:
                    allowed = ", ".join(service.excludable_causes) or "none"
                    raise UserError(
                        Problem(
                            f"contract {contract.contract!r} does not let service "
                            f"{service_id!r} exclude cause {cause!r} (allowed: {allowed})",
                            field="cause",
                        )
                    )
            first = before.started if start is None else start
            last = before.resolved if end is None else end
            if start is not None:
                check_sane(start, now, "start")
            if end is not None:
                check_sane(end, now, "end")
            if last is None:
                raise UserError(
                    Problem(
                        f"incident #{incident_id} is not resolved yet; give the end of the "
                        "excluded time",
                        field="end",
                    )
                )
            if last <= first:
                raise UserError(
                    Problem(
                        f"expected an end after start {format_instant(first)}, "
                        f"got {format_instant(last)}",
                        field="end",
                    )
                )
            return {"exclusion_start": first, "exclusion_end": last}

        return self._change(
            incident_id,
            actor=actor,
            now=now,
            action="incident.classify",
            values={"exclusion_cause": cause},
            check=check,
        )

    def edit(
        self,
        incident_id: int,
        *,
        actor: str,
        now: int,
        title: str | None = None,
        services: Sequence[str] | Literal["*"] | None = None,
        impact: Impact | None = None,
        started: int | None = None,
        resolved: int | None = None,
    ) -> IncidentView:
        """Correct a mistaken incident: its title, services, impact, start or (once resolved)
        end. Each given field is checked as when opening; the audit entry keeps both."""
        values: dict[str, Any] = {}
        if title is not None:
            values["title"] = check_title(title)
        if services is not None:
            named = check_services(self.contract, services, star=False)
            values["services"] = json.dumps(list(named))
        if impact is not None:
            check_choice(impact, IMPACTS, "impact")
            values["impact"] = impact
        if started is not None:
            check_not_after(started, now, "started")
            values["started"] = started
        if resolved is not None:
            check_not_after(resolved, now, "resolved")
            values["resolved"] = resolved
        if not values:
            raise UserError(
                Problem(
                    "expected at least one of title, services, impact, started, resolved",
                    field="body",
                )
            )

        def check(before: IncidentView) -> dict[str, Any]:
            if resolved is not None and before.resolved is None:
                raise ConflictError(
                    Problem(f"incident #{incident_id} is not resolved; resolve it instead")
                )
            first = before.started if started is None else started
            last = before.resolved if resolved is None else resolved
            if last is not None and last < first:
                raise UserError(
                    Problem(
                        f"expected the end after the start ({instant_text(first)}), "
                        f"got {instant_text(last)}",
                        field="resolved" if resolved is not None else "started",
                    )
                )
            return {}

        return self._change(
            incident_id, actor=actor, now=now, action="incident.edit", values=values, check=check
        )

    def delete(self, incident_id: int, *, actor: str, now: int) -> IncidentView:
        """Delete a mistaken incident and its updates; the audit entry keeps what it was
        (with its updates' Markdown). Returns the deleted incident."""
        with self._engine.begin() as connection:
            self._row(connection, incident_id, lock=True)
            before = self._view(connection, incident_id)
            u = incident_updates.c
            written = connection.execute(
                select(u.at, u.status, u.author, u.body_markdown)
                .where(u.incident_id == incident_id)
                .order_by(u.at, u.id)
            ).all()
            connection.execute(delete(incident_updates).where(u.incident_id == incident_id))
            connection.execute(delete(incidents).where(incidents.c.id == incident_id))
            record(
                connection,
                at=now,
                actor=actor,
                action="incident.delete",
                subject="incident",
                subject_id=incident_id,
                before={
                    **_state(before),
                    "updates": [
                        {
                            "at": instant_text(int(r.at)),
                            "status": str(r.status),
                            "author": str(r.author),
                            "body": str(r.body_markdown),
                        }
                        for r in written
                    ],
                },
                after=None,
            )
        return before

    # -- automatic incidents -------------------------------------------------------------

    def open_automatic(self) -> list[OpenAutomatic]:
        i = incidents.c
        query = (
            select(i.id, i.detection_key, i.started, i.impact)
            .where(i.automatic.is_(True), i.resolved.is_(None), i.detection_key.is_not(None))
            .order_by(i.id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            OpenAutomatic(int(r.id), str(r.detection_key), int(r.started), r.impact) for r in rows
        ]

    def apply(self, decisions: Decisions, now: int) -> list[IncidentView]:
        """Open and resolve automatic incidents as decided, idempotently: an outage that
        already has an incident (same result, same start) is not opened again, and only
        unresolved incidents are resolved. Returns the incidents changed."""
        changed: list[int] = []
        with self._engine.begin() as connection:
            for opening in decisions.open:
                i = incidents.c
                exists = connection.execute(
                    select(i.id).where(i.detection_key == opening.key, i.started == opening.started)
                ).first()
                if exists is not None:
                    continue
                incident_id = self._insert(
                    connection,
                    opening.title,
                    (opening.service,),
                    opening.location,
                    opening.impact,
                    "investigating",
                    opening.started,
                    now,
                    automatic=True,
                    detection_key=opening.key,
                )
                body = f"Detected automatically: {opening.reason}."
                self._add_update(
                    connection, incident_id, now, "investigating", body, AUTOMATIC_ACTOR
                )
                after = self._view(connection, incident_id)
                record(
                    connection,
                    at=now,
                    actor=AUTOMATIC_ACTOR,
                    action="incident.auto-open",
                    subject="incident",
                    subject_id=incident_id,
                    before=None,
                    after={**_state(after), "update": body},
                )
                changed.append(incident_id)
            for resolution in decisions.resolve:
                row = self._row(connection, resolution.incident_id, lock=True)
                if row.resolved is not None:
                    continue
                before = self._view(connection, resolution.incident_id)
                connection.execute(
                    update(incidents)
                    .where(incidents.c.id == resolution.incident_id)
                    .values(status="resolved", resolved=resolution.resolved, updated_at=now)
                )
                body = resolution.reason[0].upper() + resolution.reason[1:] + "."
                self._add_update(
                    connection, resolution.incident_id, now, "resolved", body, AUTOMATIC_ACTOR
                )
                after = self._view(connection, resolution.incident_id)
                record(
                    connection,
                    at=now,
                    actor=AUTOMATIC_ACTOR,
                    action="incident.auto-resolve",
                    subject="incident",
                    subject_id=resolution.incident_id,
                    before=_state(before),
                    after={**_state(after), "update": body},
                )
                changed.append(resolution.incident_id)
            for escalation in decisions.escalate:
                row = self._row(connection, escalation.incident_id, lock=True)
                if row.resolved is not None or row.impact == escalation.impact:
                    continue
                before = self._view(connection, escalation.incident_id)
                connection.execute(
                    update(incidents)
                    .where(incidents.c.id == escalation.incident_id)
                    .values(impact=escalation.impact, updated_at=now)
                )
                body = f"Impact raised to {escalation.impact}: {escalation.reason}."
                self._add_update(
                    connection, escalation.incident_id, now, before.status, body, AUTOMATIC_ACTOR
                )
                after = self._view(connection, escalation.incident_id)
                record(
                    connection,
                    at=now,
                    actor=AUTOMATIC_ACTOR,
                    action="incident.auto-escalate",
                    subject="incident",
                    subject_id=escalation.incident_id,
                    before=_state(before),
                    after={**_state(after), "update": body},
                )
                changed.append(escalation.incident_id)
            return [self._view(connection, i) for i in dict.fromkeys(changed)]

    def sync_automatic(
        self,
        report: Report,
        now: int,
        *,
        observations: Observations | None = None,
        events: Events | None = None,
    ) -> list[IncidentView]:
        """Detect from a month-to-date ``report`` settled at ``now`` and apply the decisions."""
        decisions = detect_incidents(
            self.contract,
            report,
            self.open_automatic(),
            now,
            observations=observations,
            events=events,
        )
        busy = decisions.open or decisions.resolve or decisions.escalate
        return self.apply(decisions, now) if busy else []
