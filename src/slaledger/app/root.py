"""The composition root's wiring: :class:`Settings`, one deployment's choices, and
:class:`Root`, which builds the clock, every store, the notifier, the publisher and the server
from them. Commands, ``serve``, the publisher process and the benchmarks get their parts here
and nowhere else."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from slaledger.clock import replayed_clock, wall_clock
from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.timebase import Clock
from slaledger.files.signing_key import SigningKey, load_signing_key
from slaledger.store.database import DEFAULT_URL, open_database
from slaledger.store.observation_store import ObservationStore
from slaledger.store.statements import StatementStore
from slaledger.store.tiers import DEFAULT_MINUTE_DAYS, DEFAULT_RAW_DAYS, Stores, check_retention

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from slaledger.notify.email_sender import SmtpSettings
    from slaledger.notify.messages import Site
    from slaledger.notify.outbox import Notifier
    from slaledger.status.publisher import Publisher
    from slaledger.status.publisher_process import PublisherProcess
    from slaledger.store.audit_log import AuditLog
    from slaledger.store.incident_store import IncidentStore
    from slaledger.store.maintenance_store import MaintenanceStore
    from slaledger.store.tokens import TokenStore
    from slaledger.web.server import Listening, Publishing


@dataclass(frozen=True)
class Settings:
    """One deployment's choices, everything :class:`Root` builds from. Picklable: the
    publisher process builds its own parts from the same settings."""

    db_url: str = DEFAULT_URL
    public_url: str | None = None
    """The status page's public URL (``serve``: default where it listens)."""
    smtp: SmtpSettings | None = None
    """Mail for subscribers; an empty ``from_address`` becomes ``status@`` the public host."""
    allow_private_webhooks: bool = False
    raw_days: int = DEFAULT_RAW_DAYS
    minute_days: int = DEFAULT_MINUTE_DAYS
    every_seconds: float = 60.0
    """How often the publisher settles the month to date and rebuilds the page."""
    signing_key: Path | None = None
    """The private key that signs each statement the publisher issues (``serve
    --signing-key``); none: statements are chained but unsigned."""
    clock_start: int | None = None
    """Replay: the clock reads this instant at start instead of now (benchmarks over a store
    recorded as of a fixed date)."""


def build_clock(settings: Settings | None = None) -> Clock:
    """The clock every part is handed: the system's, or a replay from ``clock_start``."""
    if settings is None or settings.clock_start is None:
        return wall_clock
    return replayed_clock(settings.clock_start, wall_clock)


class Root:
    """Builds every part from :class:`Settings`: the clock, the database and its stores,
    the notifier, the publisher and the server. The database is opened (and its schema
    brought up to date) on first use, once."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = build_clock(settings) if clock is None else clock
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_database(self.settings.db_url)
        return self._engine

    def stores(self) -> Stores:
        return Stores.of(self.engine)

    def observations(self) -> ObservationStore:
        return ObservationStore(self.engine)

    def tokens(self) -> TokenStore:
        from slaledger.store.tokens import TokenStore  # noqa: PLC0415

        return TokenStore(self.engine)

    def incidents(self, contract: Contract) -> IncidentStore:
        from slaledger.store.incident_store import IncidentStore  # noqa: PLC0415

        return IncidentStore(self.engine, contract)

    def maintenance(self, contract: Contract) -> MaintenanceStore:
        from slaledger.store.maintenance_store import MaintenanceStore  # noqa: PLC0415

        return MaintenanceStore(self.engine, contract)

    def audit(self) -> AuditLog:
        from slaledger.store.audit_log import AuditLog  # noqa: PLC0415

        return AuditLog(self.engine)

    def site(self, contract: Contract, listening_url: str | None = None) -> Site:
        from slaledger.notify.messages import Site  # noqa: PLC0415

        url = self.settings.public_url or listening_url
        if url is None:
            raise ValueError("no public URL: give Settings.public_url or where it listens")
        return Site.of(contract, url)

    def notifier(self, site: Site, wake: Callable[[], None] | None = None) -> Notifier:
        """Turns incident and maintenance changes into queued notifications; ``wake`` tells
        the outbox worker (the publisher process has none: its worker runs in the server)."""
        from slaledger.notify.outbox import Notifier  # noqa: PLC0415
        from slaledger.store.subscriber_store import SubscriberStore  # noqa: PLC0415

        subscribers = SubscriberStore(self.engine)
        if wake is None:
            return Notifier(subscribers, site, self.clock)
        return Notifier(subscribers, site, self.clock, wake=wake)

    def publisher(self, contract: Contract, file_events: Events, site: Site) -> Publisher:
        """What the publisher process runs: settles the month to date, opens and resolves
        automatic incidents, keeps figures, statements and retention."""
        from slaledger.status.publisher import Publisher  # noqa: PLC0415
        from slaledger.store.figure_store import FigureStore  # noqa: PLC0415
        from slaledger.store.record_store import RecordStore, StoredRecords  # noqa: PLC0415

        return Publisher(
            contract,
            file_events,
            self.stores(),
            self.incidents(contract),
            self.maintenance(contract),
            FigureStore(self.engine, contract.contract),
            on_change=self.notifier(site).on_change,
            raw_days=self.settings.raw_days,
            minute_days=self.settings.minute_days,
            records=StoredRecords(RecordStore(self.engine), contract.contract),
            signer=self.signer(),
        )

    def signer(self) -> SigningKey | None:
        key = self.settings.signing_key
        return None if key is None else load_signing_key(key)

    def publisher_process(
        self, contract: Contract, file_events: Events, listening_url: str | None = None
    ) -> PublisherProcess:
        """The publisher in a process of its own, built there from these settings."""
        from slaledger.status.publisher_process import PublisherProcess  # noqa: PLC0415

        site = self.site(contract, listening_url)
        build = partial(_build_publisher, self.settings, contract, file_events, site.base_url)
        return PublisherProcess(
            build,
            file_events,
            self.settings.every_seconds,
            events=self.maintenance(contract).events,
        )

    def publishing(
        self, contract: Contract, file_events: Events, listening_url: str | None = None
    ) -> Publishing:
        """The status page, its figures and notifications: the server's parts here, the
        publisher in a process of its own."""
        # Imported here: the web stack would otherwise slow down every other command's start.
        from slaledger.notify.email_sender import EmailSender  # noqa: PLC0415
        from slaledger.notify.outbox import OutboxWorker  # noqa: PLC0415
        from slaledger.notify.webhook_sender import WebhookSender, WebhookSettings  # noqa: PLC0415
        from slaledger.store.record_store import RecordStore  # noqa: PLC0415
        from slaledger.store.subscriber_store import SubscriberStore  # noqa: PLC0415
        from slaledger.web.app import Publication  # noqa: PLC0415
        from slaledger.web.server import Publishing  # noqa: PLC0415
        from slaledger.web.statements_api import PublishedStatements  # noqa: PLC0415

        settings = self.settings
        signer = self.signer()
        site = self.site(contract, listening_url)
        smtp = settings.smtp
        if smtp is not None and not smtp.from_address:
            host = urlsplit(site.base_url).hostname or "localhost"
            smtp = replace(smtp, from_address=f"status@{host}")
        subscribers = SubscriberStore(self.engine)
        worker = OutboxWorker(
            subscribers,
            self.clock,
            email=None if smtp is None else EmailSender(smtp),
            webhooks=WebhookSender(WebhookSettings(allow_private=settings.allow_private_webhooks)),
        )
        notifier = self.notifier(site, wake=worker.wake)
        publisher = self.publisher_process(contract, file_events, site.base_url)
        maintenance = self.maintenance(contract)
        publication = Publication(
            snapshots=publisher.latest,
            live=publisher.live,
            incidents=self.incidents(contract),
            maintenance=maintenance,
            audit=self.audit(),
            subscribers=subscribers,
            on_change=notifier.on_change,
            wake=worker.wake,
            public_url=site.base_url,
            problem=publisher.problem,
            allow_private_webhooks=settings.allow_private_webhooks,
            records=RecordStore(self.engine),
            statements=PublishedStatements(
                contract.contract,
                StatementStore(self.engine),
                None if signer is None else signer.public_pem,
            ),
        )
        return Publishing(publisher, publication, worker, notifier)

    def serve(
        self,
        contract: Contract,
        file_events: Events,
        *,
        host: str,
        port: int,
        location: str,
        probes: bool,
        announce: Callable[[Listening], None],
        ingest_horizon: int | None = None,
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        """Run ``slaledger serve`` until SIGINT or SIGTERM."""
        from slaledger.web.server import serve  # noqa: PLC0415

        check_retention(self.settings.raw_days, self.settings.minute_days)
        extra = {} if ingest_horizon is None else {"ingest_horizon": ingest_horizon}
        serve(
            contract,
            file_events,
            self.observations(),
            self.tokens(),
            self.clock,
            host=host,
            port=port,
            location=location,
            probes=probes,
            announce=announce,
            publish=lambda url: self.publishing(contract, file_events, url),
            trusted_proxies=trusted_proxies,
            **extra,
        )


def _build_publisher(
    settings: Settings, contract: Contract, file_events: Events, public_url: str
) -> tuple[Publisher, Clock]:
    """The publisher process's wiring, from the server's settings (run in the child)."""
    root = Root(settings)
    return root.publisher(contract, file_events, root.site(contract, public_url)), root.clock


def open_stores(db_url: str) -> Stores:
    """The stores of the database at ``db_url``, its schema brought up to date."""
    return Root(Settings(db_url=db_url)).stores()


def open_store(db_url: str) -> ObservationStore:
    """The observation store at ``db_url``, its schema brought up to date."""
    return Root(Settings(db_url=db_url)).observations()
