"""The outbox: fanning changes out into deliveries, and the worker that sends them.

:func:`enqueue_for` turns one incident or maintenance change into rows of the ``deliveries``
table (emails to confirmed subscribers of its services, calls to webhooks, and maintenance
notices to account holders) in one transaction. :class:`OutboxWorker` sends due rows, each
in its own task: emails and webhook calls have their own concurrency limits, a webhook has
at most one call in flight, and every call has a timeout, so a failing or hanging endpoint
never delays the others. A failed attempt is tried again after an exponential backoff,
until ``max_attempts``; a permanent failure gives up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from slaledger.core.publication import IncidentView, MaintenanceView, StatusSnapshot
from slaledger.core.timebase import US_PER_SECOND, Clock
from slaledger.notify import DeliveryError
from slaledger.notify.email_sender import EmailSender
from slaledger.notify.messages import (
    Change,
    Email,
    Site,
    event_of,
    fingerprint,
    incident_email,
    maintenance_email,
    subject_key,
    webhook_payload,
)
from slaledger.notify.webhook_sender import WebhookSender
from slaledger.store.subscriber_store import (
    Delivery,
    Kind,
    NewDelivery,
    SubscriberStore,
    new_token,
    token_hash,
)

log = logging.getLogger("slaledger.notify")


# --- Fan-out -------------------------------------------------------------------------------


def _concerns(wanted: tuple[str, ...] | None, services: tuple[str, ...] | str) -> bool:
    """Whether a recipient of ``wanted`` services (``None``: all) hears of ``services``."""
    if wanted is None or services == "*":
        return True
    return any(service in wanted for service in services)


def enqueue_for(store: SubscriberStore, site: Site, change: Change, now: int) -> int:
    """Queue the messages ``change`` calls for; returns how many (0 when this very state
    of the change was already fanned out).

    Confirmed email subscribers of its services and webhooks get every change; account
    holders get maintenance announcements, changes and cancellations. Call it (in a thread:
    it writes to the database) from the operator API's ``on_change`` hook with the change's
    new state, then :meth:`OutboxWorker.wake` the worker.
    """
    subject = subject_key(change)
    mark = fingerprint(change)
    previous = store.notified(subject)
    if previous == mark:
        return 0
    event = event_of(change, seen_before=previous is not None)
    deliveries: list[NewDelivery] = []
    for subscriber in store.subscribers(confirmed_only=True):
        if not _concerns(subscriber.services, change.services):
            continue
        token = new_token()
        if isinstance(change, IncidentView):
            email = incident_email(site, change, token)
        else:
            email = maintenance_email(site, change, event, unsubscribe_token=token)
        deliveries.append(
            NewDelivery(
                "email",
                event,
                subscriber.email,
                email.to_json(),
                subscriber_id=subscriber.id,
                unsubscribe_token_hash=token_hash(token),
            )
        )
    body = webhook_payload(site, change, event, now)
    deliveries += [
        NewDelivery("webhook", event, webhook.url, body, webhook_id=webhook.id)
        for webhook in store.webhooks()
        if _concerns(webhook.services, change.services)
    ]
    if isinstance(change, MaintenanceView):
        for holder in store.account_holders():
            email = maintenance_email(site, change, event, account=holder.account)
            deliveries.append(NewDelivery("email", event, holder.email, email.to_json()))
    ids = store.enqueue(deliveries, now, notified=(subject, mark, previous))
    return 0 if ids is None else len(ids)


class Notifier:
    """:func:`enqueue_for` with its dependencies, for the composition root.

    ``OperatorApi(on_change=notifier.on_change)``: the operator API calls its hook on the
    event loop, so :meth:`on_change` runs the fan-out in a thread (never blocking requests)
    and then wakes the worker. A fan-out lost to a crash is made up by :meth:`catch_up` at
    start-up: states already sent are skipped.
    """

    def __init__(
        self,
        store: SubscriberStore,
        site: Site,
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._site = site
        self._clock = clock
        self._wake = wake
        self._running: set[asyncio.Future[int]] = set()

    def enqueue_for(self, change: Change, now: int) -> int:
        """Queue the messages for ``change`` (blocking) and wake the worker."""
        count = enqueue_for(self._store, self._site, change, now)
        if count:
            self._wake()
        return count

    def _logged(self, change: Change) -> int:
        try:
            return self.enqueue_for(change, self._clock())
        except Exception:
            log.exception("queuing notifications for %s failed", subject_key(change))
            return 0

    def on_change(self, change: Change) -> None:
        """The operator API's hook: fan out in a thread when on an event loop, else now."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._logged(change)
            return
        future = loop.run_in_executor(None, self._logged, change)
        self._running.add(future)
        future.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        """Wait for fan-outs :meth:`on_change` started (before shutting down)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    def catch_up(self, snapshot: StatusSnapshot) -> int:
        """Fan out open incidents and upcoming maintenance whose current state was never
        sent (blocking); returns the deliveries queued."""
        changes: list[Change] = [*snapshot.active_incidents, *snapshot.upcoming_maintenance]
        return sum(self.enqueue_for(change, self._clock()) for change in changes)


# --- Sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay_seconds: float = 30.0
    max_delay_seconds: float = 6 * 3600.0

    def retry_at(self, attempts: int, now: int) -> int | None:
        """When to try again after ``attempts`` failed attempts; ``None``: give up."""
        if attempts >= self.max_attempts:
            return None
        delay = min(self.first_delay_seconds * 2 ** (attempts - 1), self.max_delay_seconds)
        return now + int(delay * US_PER_SECOND)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    error: str | None
    """``None``: delivered."""


class OutboxWorker:
    """Sends due deliveries until stopped; see the module's documentation.

    Run :meth:`run` as a task beside the server (it stops when ``stopping`` is set);
    :meth:`wake` after queuing (from any thread) to send without waiting for the next poll.
    Without an ``email`` sender, emails stay queued.
    """

    def __init__(
        self,
        store: SubscriberStore,
        clock: Clock,
        *,
        email: EmailSender | None,
        webhooks: WebhookSender,
        policy: RetryPolicy | None = None,
        email_concurrency: int = 4,
        webhook_concurrency: int = 16,
        poll_seconds: float = 10.0,
        lease_seconds: float = 600.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._email = email
        self._webhooks = webhooks
        self.policy = policy or RetryPolicy()
        self._limits: dict[Kind, int] = {"email": email_concurrency, "webhook": webhook_concurrency}
        self._poll = poll_seconds
        self._lease = int(lease_seconds * US_PER_SECOND)
        self._in_flight: dict[asyncio.Task[Outcome], Delivery] = {}
        self._woken: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Look for due deliveries now (callable from any thread)."""
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None and not loop.is_closed():
            loop.call_soon_threadsafe(woken.set)

    # -- One delivery --

    async def _attempt(self, delivery: Delivery) -> None:
        now = self._clock()
        if delivery.kind == "email":
            if self._email is None:
                raise DeliveryError("no SMTP server configured")
            domain = self._email.settings.domain
            await self._email.send(
                delivery.target,
                Email.from_json(delivery.payload),
                message_id=f"<{delivery.id}.{delivery.created_at}@{domain}>",
                date=now,
            )
        else:
            await self._webhooks.send(
                delivery.target,
                delivery.secret or "",
                delivery.payload.encode(),
                event=delivery.event,
                delivery_id=delivery.id,
                now=now,
            )

    async def _deliver(self, delivery: Delivery) -> Outcome:
        """Attempt ``delivery`` and record the outcome; never raises (but cancellation)."""
        try:
            await self._attempt(delivery)
        except DeliveryError as error:
            message, permanent = str(error), error.permanent
        except Exception as error:  # a bug must not stop the other deliveries
            log.exception("delivery %d failed unexpectedly", delivery.id)
            message, permanent = f"{type(error).__name__}: {error}", False
        else:
            await asyncio.to_thread(self._store.delivered, delivery.id, self._clock())
            return Outcome(delivery.id, None)
        attempts = delivery.attempts + 1
        retry_at = None if permanent else self.policy.retry_at(attempts, self._clock())
        await asyncio.to_thread(self._store.attempt_failed, delivery.id, message, retry_at)
        if retry_at is None:
            log.warning(
                "giving up %s delivery %d to %s after %d attempts: %s",
                delivery.kind,
                delivery.id,
                delivery.target,
                attempts,
                message,
            )
        else:
            log.info("%s delivery %d failed (%s); retrying", delivery.kind, delivery.id, message)
        return Outcome(delivery.id, message)

    # -- Claiming --

    async def _claim(self) -> list[Delivery]:
        now = self._clock()
        claimed: list[Delivery] = []
        kinds: tuple[Kind, ...] = ("email", "webhook")
        for kind in kinds:
            if kind == "email" and self._email is None:
                continue
            busy = [d for d in self._in_flight.values() if d.kind == kind]
            free = self._limits[kind] - len(busy)
            webhooks = [d.webhook_id for d in busy if d.webhook_id is not None]
            claimed += await asyncio.to_thread(
                self._store.claim,
                kind,
                now,
                free,
                lease_until=now + self._lease,
                busy_webhooks=webhooks,
            )
        return claimed

    def _start(self, delivery: Delivery) -> asyncio.Task[Outcome]:
        task = asyncio.create_task(self._deliver(delivery), name=f"delivery-{delivery.id}")
        self._in_flight[task] = delivery
        task.add_done_callback(lambda done: self._in_flight.pop(done, None))
        return task

    async def run_once(self) -> list[Outcome]:
        """Send what is due now (within the concurrency limits) and wait for the outcomes."""
        tasks = [self._start(delivery) for delivery in await self._claim()]
        return list(await asyncio.gather(*tasks))

    async def run(self, stopping: asyncio.Event, *, grace_seconds: float = 15.0) -> None:
        """Send due deliveries as slots free up, until ``stopping`` is set; then wait up to
        ``grace_seconds`` for calls in flight (a cut-off call is retried after its lease)."""
        self._loop = asyncio.get_running_loop()
        self._woken = woken = asyncio.Event()
        stop = asyncio.create_task(stopping.wait())
        try:
            while not stopping.is_set():
                woken.clear()
                try:
                    for delivery in await self._claim():
                        self._start(delivery)
                except Exception:
                    log.exception("reading the outbox failed; trying again")
                wake = asyncio.create_task(woken.wait())
                await asyncio.wait(
                    [stop, wake, *self._in_flight],
                    timeout=self._poll,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                wake.cancel()
        finally:
            stop.cancel()
            pending = list(self._in_flight)
            if pending:
                _done, late = await asyncio.wait(pending, timeout=grace_seconds)
                for task in late:
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.gather(*late, return_exceptions=True)
            await self._webhooks.close()
            self._woken = None
