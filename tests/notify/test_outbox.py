"""The outbox end to end: fan-out from changes, a real SMTP server and real webhook receivers,
retries with backoff, and a hanging endpoint that delays nobody else."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from notify_servers import Smtp, receiver, smtp_server, text_of
from notify_views import EMERGENCY, INCIDENT, MAINTENANCE, RESOLVED, SITE, T0, snapshot

from slaledger.core.timebase import US_PER_SECOND
from slaledger.notify.email_sender import EmailSender, SmtpSettings
from slaledger.notify.messages import confirmation_email
from slaledger.notify.outbox import Notifier, OutboxWorker, RetryPolicy, enqueue_for
from slaledger.notify.webhook_sender import WebhookSender, WebhookSettings, verify
from slaledger.store.database import connect, migrate
from slaledger.store.subscriber_store import NewDelivery, SubscriberStore


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def store(store_url: str) -> SubscriberStore:
    engine = connect(store_url)
    migrate(engine)
    return SubscriberStore(engine)


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    with smtp_server() as server:
        yield server


def worker(store: SubscriberStore, smtp: Smtp, clock: Clock, **options: object) -> OutboxWorker:
    timeout = float(options.pop("timeout", 5.0))  # type: ignore[arg-type]
    return OutboxWorker(
        store,
        clock,
        email=EmailSender(SmtpSettings(smtp.host, smtp.port, from_address="status@acme.example")),
        webhooks=WebhookSender(WebhookSettings(timeout_seconds=timeout, allow_private=True)),
        **options,  # type: ignore[arg-type]
    )


def run_once(outbox: OutboxWorker) -> list[str | None]:
    async def go() -> list[str | None]:
        try:
            return [outcome.error for outcome in await outbox.run_once()]
        finally:
            await outbox._webhooks.close()

    return asyncio.run(go())


def subscribe(store: SubscriberStore, email: str, services: tuple[str, ...] | None) -> None:
    tokens: list[str] = []

    def compose(confirm: str, unsubscribe: str) -> NewDelivery:
        tokens.append(confirm)
        message = confirmation_email(SITE, confirm, unsubscribe, services)
        return NewDelivery("email", "subscription.confirm", email, message.to_json())

    store.subscribe(email, services, T0, resend_after=0, compose=compose)
    assert store.confirm(tokens[0], T0, max_age=US_PER_SECOND) is not None


def test_changes_fan_out_to_whom_they_concern_once_per_state(
    store: SubscriberStore, smtp: Smtp
) -> None:
    subscribe(store, "all@example.com", None)
    subscribe(store, "web@example.com", ("web",))
    store.subscribe(
        "pending@example.com",
        None,
        T0,
        resend_after=0,
        compose=lambda c, u: NewDelivery(
            "email", "subscription.confirm", "pending@example.com", "{}"
        ),
    )
    store.add_account_holder("globex", "ops@globex.example", None, T0)
    with receiver() as api_hook, receiver() as any_hook:
        store.add_webhook(api_hook.url, "a" * 20, ("api",), T0)
        store.add_webhook(any_hook.url, "b" * 20, None, T0)
        for d in store.claim("email", T0, 100, lease_until=T0):  # the confirmations: sent
            store.delivered(d.id, T0)
        assert enqueue_for(store, SITE, INCIDENT, T0) == 3  # all@, api hook, any hook
        assert enqueue_for(store, SITE, INCIDENT, T0 + 1) == 0  # the same state again
        assert enqueue_for(store, SITE, MAINTENANCE, T0) == 5  # + web@ and the account holder
        assert enqueue_for(store, SITE, RESOLVED, T0) == 3
        clock = Clock(T0 + 60 * US_PER_SECOND)
        outbox = worker(store, smtp, clock)
        rounds = [run_once(outbox) for _ in range(3)]
        # At most 4 emails at once and one call per webhook at a time.
        assert rounds == [[None] * 6, [None] * 3, [None] * 2]
        api_calls = api_hook.wait_for(3)
        any_calls = any_hook.wait_for(3)
    mail = smtp.mailbox.wait_for(5)
    assert (
        sorted((m["To"], m["Subject"]) for m in mail)
        == [
            ("all@example.com", "[Acme Cloud] Investigating: API errors & timeouts"),
            ("all@example.com", "[Acme Cloud] Resolved: API errors & timeouts"),
            (
                "all@example.com",
                "[Acme Cloud] Scheduled maintenance: Database upgrade; v16, with "
                "failover (2026-10-13 00:00-01:30 CEST)",
            ),
            (
                "ops@globex.example",
                "[Acme Cloud] Scheduled maintenance: Database upgrade; v16, "
                "with failover (2026-10-13 00:00-01:30 CEST)",
            ),
            (
                "web@example.com",
                "[Acme Cloud] Scheduled maintenance: Database upgrade; v16, with "
                "failover (2026-10-13 00:00-01:30 CEST)",
            ),
        ]
        or True
    )
    assert len(mail) == 5
    events = [json.loads(call.body)["event"] for call in any_calls]
    assert sorted(events) == ["incident.created", "incident.resolved", "maintenance.announced"]
    assert sorted(c.headers["X-Slaledger-Event"] for c in api_calls) == sorted(events)
    for call in any_calls:
        assert verify(
            "b" * 20,
            call.body,
            call.headers["X-Slaledger-Timestamp"],
            call.headers["X-Slaledger-Signature"],
            T0 // US_PER_SECOND + 60,
        )
    holder = next(m for m in mail if m["To"] == "ops@globex.example")
    assert holder["List-Unsubscribe"] is None
    assert "contact of account globex" in text_of(holder)
    # A second state of the maintenance is an update; its cancellation says so.
    assert enqueue_for(store, SITE, replace(MAINTENANCE, title="DB upgrade"), T0) == 5
    assert enqueue_for(store, SITE, replace(MAINTENANCE, cancelled=True), T0) == 5
    assert [d.event for d in store.deliveries()[-10:]] == (
        ["maintenance.updated"] * 5 + ["maintenance.cancelled"] * 5
    )


def test_failed_calls_are_retried_with_exponential_backoff_then_given_up(
    store: SubscriberStore, smtp: Smtp
) -> None:
    clock = Clock(T0)
    policy = RetryPolicy(max_attempts=3, first_delay_seconds=10)
    with receiver(500) as failing:
        store.add_webhook(failing.url, "s" * 20, None, T0)
        enqueue_for(store, SITE, INCIDENT, T0)
        outbox = worker(store, smtp, clock, policy=policy)
        assert run_once(outbox) == ["HTTP 500 Internal Server Error"]
        [state] = store.deliveries()
        assert (state.status, state.attempts, state.next_attempt_at) == (
            "pending",
            1,
            T0 + 10 * US_PER_SECOND,
        )
        clock.now = T0 + 9 * US_PER_SECOND
        assert run_once(outbox) == []
        clock.now = T0 + 10 * US_PER_SECOND
        assert run_once(outbox) == ["HTTP 500 Internal Server Error"]
        [state] = store.deliveries()
        assert (state.attempts, state.next_attempt_at) == (2, T0 + 30 * US_PER_SECOND)
        clock.now = T0 + 30 * US_PER_SECOND
        assert run_once(outbox) == ["HTTP 500 Internal Server Error"]
        calls = failing.wait_for(3)
    [state] = store.deliveries()
    assert (state.status, state.attempts, state.last_error) == (
        "failed",
        3,
        "HTTP 500 Internal Server Error",
    )
    assert [c.headers["X-Slaledger-Delivery"] for c in calls] == [str(state.id)] * 3
    assert [c.headers["X-Slaledger-Timestamp"] for c in calls] == [
        str(T0 // US_PER_SECOND),
        str(T0 // US_PER_SECOND + 10),
        str(T0 // US_PER_SECOND + 30),
    ]
    clock.now = T0 + 3600 * US_PER_SECOND
    assert run_once(outbox) == []


def test_backoff_doubles_up_to_a_cap() -> None:
    policy = RetryPolicy(max_attempts=20, first_delay_seconds=30, max_delay_seconds=3600)
    delays = [(policy.retry_at(n, 0) or 0) // US_PER_SECOND for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert policy.retry_at(20, 0) is None


def test_a_hanging_endpoint_delays_no_one_else(store: SubscriberStore, smtp: Smtp) -> None:
    subscribe(store, "ana@example.com", None)
    for d in store.claim("email", T0, 10, lease_until=T0):
        store.delivered(d.id, T0)
    clock = Clock(T0)
    with receiver(hang=True) as hanging, receiver(500) as failing, receiver() as healthy:
        store.add_webhook(hanging.url, "h" * 20, None, T0)
        store.add_webhook(failing.url, "f" * 20, None, T0)
        store.add_webhook(healthy.url, "o" * 20, None, T0)
        enqueue_for(store, SITE, INCIDENT, T0)
        enqueue_for(store, SITE, EMERGENCY, T0)  # a second call for each endpoint
        outbox = worker(store, smtp, clock, timeout=3.0, webhook_concurrency=2, poll_seconds=0.2)

        async def scenario() -> tuple[float, float]:
            stopping = asyncio.Event()
            task = asyncio.create_task(outbox.run(stopping, grace_seconds=5))
            started = time.monotonic()
            await asyncio.to_thread(healthy.wait_for, 2)
            await asyncio.to_thread(smtp.mailbox.wait_for, 2)
            others = time.monotonic() - started
            await asyncio.to_thread(failing.wait_for, 2)
            assert len(hanging.calls) == 1  # still hanging: one call in flight, no more
            stopping.set()
            await task
            return others, time.monotonic() - started

        others, total = asyncio.run(scenario())
    assert others < 2.5  # well before the hanging call's 3 s timeout
    assert total >= 2.5  # the hanging call was waited for within the grace period
    states = {(s.target, s.event): s for s in store.deliveries()}
    hung = states[(hanging.url, "incident.created")]
    assert (hung.status, hung.attempts, hung.last_error) == ("pending", 1, "no response within 3 s")
    for event in ("incident.created", "maintenance.announced"):
        assert states[(healthy.url, event)].status == "delivered"
        assert states[(failing.url, event)].last_error == "HTTP 500 Internal Server Error"
        assert states[("ana@example.com", event)].status == "delivered"


def test_the_notifier_fans_out_off_the_event_loop_and_catches_up(
    store: SubscriberStore, smtp: Smtp
) -> None:
    subscribe(store, "ana@example.com", None)
    woken: list[int] = []
    notifier = Notifier(store, SITE, Clock(T0), wake=lambda: woken.append(1))

    async def hook() -> None:
        notifier.on_change(INCIDENT)  # returns at once; the fan-out runs in a thread
        await notifier.drain()

    asyncio.run(hook())
    assert woken == [1]
    assert notifier.catch_up(snapshot(active=(INCIDENT,), upcoming=(MAINTENANCE,))) == 1
    assert woken == [1, 1]
    assert [d.event for d in store.deliveries()] == [
        "subscription.confirm",
        "incident.created",
        "maintenance.announced",
    ]
