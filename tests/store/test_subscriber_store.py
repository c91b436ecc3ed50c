"""Subscribers, webhooks, account holders and the outbox on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from slaledger.errors import UserError
from slaledger.store import subscriber_schema as tables
from slaledger.store.database import connect, migrate
from slaledger.store.subscriber_store import (
    DeliveryState,
    DuplicateError,
    NewDelivery,
    SubscriberStore,
    normalise_email,
)

NOW = 1_791_000_000_000_000
MIN = 60_000_000


@pytest.fixture
def store(store_url: str) -> SubscriberStore:
    engine = connect(store_url)
    migrate(engine)
    return SubscriberStore(engine)


class Composer:
    """Records the tokens each confirmation email would carry."""

    def __init__(self) -> None:
        self.tokens: list[tuple[str, str]] = []

    def __call__(self, confirm: str, unsubscribe: str) -> NewDelivery:
        self.tokens.append((confirm, unsubscribe))
        return NewDelivery("email", "subscription.confirm", "ignored", f"confirm {confirm}")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_double_opt_in_keeps_only_hashes_and_confirms_once(
    store: SubscriberStore, store_url: str
) -> None:
    compose = Composer()
    assert store.subscribe(
        " Ana@Example.COM ", ("web",), NOW, resend_after=10 * MIN, compose=compose
    )
    [(confirm, unsubscribe)] = compose.tokens
    assert store.subscribers() == []
    [pending] = store.subscribers(confirmed_only=False)
    assert (pending.email, pending.services, pending.confirmed) == ("ana@example.com", None, False)
    with connect(store_url).connect() as connection:
        row = connection.execute(select(tables.subscribers)).one()
        hashes = connection.execute(select(tables.unsubscribe_tokens.c.token_hash)).scalars().all()
    assert row.confirm_token_hash == sha(confirm)
    assert hashes == [sha(unsubscribe)]
    assert confirm not in str(tuple(row))
    assert unsubscribe not in str(hashes)
    [delivery] = store.deliveries()
    assert delivery == DeliveryState(
        delivery.id, "email", "subscription.confirm", "ignored", "pending", 0, NOW, None, None
    )
    assert store.confirm(confirm + "x", NOW + MIN, max_age=60 * MIN) is None
    confirmed = store.confirm(confirm, NOW + MIN, max_age=60 * MIN)
    assert confirmed is not None
    assert (confirmed.email, confirmed.services, confirmed.confirmed, confirmed.confirmed_at) == (
        "ana@example.com",
        ("web",),
        True,
        NOW + MIN,
    )
    assert store.confirm(confirm, NOW + 2 * MIN, max_age=60 * MIN) is None
    assert store.subscribers() == [confirmed]


def test_confirmations_are_resent_at_most_once_per_interval_and_expire(
    store: SubscriberStore,
) -> None:
    compose = Composer()
    assert store.subscribe("a@example.com", None, NOW, resend_after=10 * MIN, compose=compose)
    assert not store.subscribe(
        "A@example.com", None, NOW + 9 * MIN, resend_after=10 * MIN, compose=compose
    )
    assert store.subscribe(
        "a@example.com",
        ("api", "web", "api"),
        NOW + 10 * MIN,
        resend_after=10 * MIN,
        compose=compose,
    )
    assert len(compose.tokens) == 2
    assert len(store.deliveries()) == 2
    first, second = compose.tokens
    assert store.confirm(first[0], NOW + 11 * MIN, max_age=60 * MIN) is None  # replaced
    assert store.confirm(second[0], NOW + 71 * MIN, max_age=60 * MIN) is None  # too old
    done = store.confirm(second[0], NOW + 69 * MIN, max_age=60 * MIN)
    assert done is not None
    assert done.services == ("api", "web")


def test_a_confirmed_subscriber_keeps_its_services_until_it_confirms_new_ones(
    store: SubscriberStore,
) -> None:
    compose = Composer()
    store.subscribe("a@example.com", ("api",), NOW, resend_after=MIN, compose=compose)
    store.confirm(compose.tokens[0][0], NOW, max_age=MIN)
    store.subscribe("a@example.com", None, NOW + MIN, resend_after=MIN, compose=compose)
    [current] = store.subscribers()
    assert current.services == ("api",)
    updated = store.confirm(compose.tokens[1][0], NOW + MIN, max_age=MIN)
    assert updated is not None
    assert (updated.services, updated.confirmed_at) == (None, NOW)


def test_any_unsubscribe_token_forgets_the_subscriber_and_its_pending_emails(
    store: SubscriberStore,
) -> None:
    compose = Composer()
    store.subscribe("a@example.com", None, NOW, resend_after=MIN, compose=compose)
    store.subscribe("b@example.com", None, NOW, resend_after=MIN, compose=compose)
    (_, first), (_, other) = compose.tokens
    subscriber = store.by_unsubscribe_token(first)
    assert subscriber is not None
    assert subscriber.email == "a@example.com"
    gone = store.unsubscribe(first)
    assert gone is not None
    assert gone.email == "a@example.com"
    assert store.unsubscribe(first) is None
    assert store.by_unsubscribe_token(first) is None
    assert [s.email for s in store.subscribers(confirmed_only=False)] == ["b@example.com"]
    assert len(store.deliveries()) == 1
    assert store.by_unsubscribe_token(other) is not None


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "a b@example.com",
        "ana@example.com\r\nBcc: x@y.z",
        "ana@exa..mple.com",
        "x" * 250 + "@example.com",
    ],
)
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(UserError) as caught:
        normalise_email(bad)
    assert caught.value.problems[0].field == "email"


def test_webhooks_and_account_holders(store: SubscriberStore) -> None:
    hook = store.add_webhook("https://hooks.example/a", "s" * 20, ("web", "api"), NOW)
    assert (hook.url, hook.services) == ("https://hooks.example/a", ("api", "web"))
    assert store.webhooks() == [hook]
    holder = store.add_account_holder("globex", "Ops@Globex.example", "Ops", NOW)
    assert (holder.account, holder.email, holder.name) == ("globex", "ops@globex.example", "Ops")
    with pytest.raises(DuplicateError):
        store.add_account_holder("globex", "ops@globex.example", None, NOW)
    other = store.add_account_holder("initech", "ops@globex.example", None, NOW)
    assert store.account_holders() == [holder, other]
    store.enqueue([NewDelivery("webhook", "e", hook.url, "{}", webhook_id=hook.id)], NOW)
    assert store.remove_webhook(hook.id)
    assert not store.remove_webhook(hook.id)
    assert store.webhooks() == []
    assert store.deliveries() == []
    assert store.remove_account_holder(other.id)
    assert store.account_holders() == [holder]


def test_claims_lease_rows_and_take_one_call_per_webhook(store: SubscriberStore) -> None:
    a = store.add_webhook("https://a.example", "secret-a" * 3, None, NOW)
    b = store.add_webhook("https://b.example", "secret-b" * 3, None, NOW)
    ids = store.enqueue(
        [
            NewDelivery("webhook", "e1", a.url, "1", webhook_id=a.id),
            NewDelivery("webhook", "e2", a.url, "2", webhook_id=a.id),
            NewDelivery("webhook", "e3", b.url, "3", webhook_id=b.id),
            NewDelivery("email", "e4", "x@example.com", "4"),
        ],
        NOW,
    )
    assert ids is not None
    claimed = store.claim("webhook", NOW, 10, lease_until=NOW + 5 * MIN)
    assert [(d.id, d.payload, d.secret) for d in claimed] == [
        (ids[0], "1", "secret-a" * 3),
        (ids[2], "3", "secret-b" * 3),
    ]
    # Leased: not claimed again until the lease ends; a busy webhook is skipped.
    assert (
        store.claim("webhook", NOW + MIN, 10, lease_until=NOW + 6 * MIN, busy_webhooks=[a.id]) == []
    )
    assert [d.id for d in store.claim("webhook", NOW + MIN, 10, lease_until=NOW)] == [ids[1]]
    assert [d.kind for d in store.claim("email", NOW, 10, lease_until=NOW + MIN)] == ["email"]
    assert store.claim("webhook", NOW + 5 * MIN, 0, lease_until=NOW) == []
    assert store.next_due() == NOW


def test_outcomes_are_recorded_and_delivered_emails_lose_their_payload(
    store: SubscriberStore, store_url: str
) -> None:
    ids = store.enqueue(
        [
            NewDelivery("email", "e", "x@example.com", "secret link"),
            NewDelivery("email", "e", "y@example.com", "other"),
        ],
        NOW,
    )
    assert ids is not None
    store.attempt_failed(ids[0], "SMTP 451 try later", NOW + MIN)
    store.delivered(ids[0], NOW + 2 * MIN)
    store.attempt_failed(ids[1], "SMTP 550 no such user", None)
    assert store.deliveries() == [
        DeliveryState(
            ids[0], "email", "e", "x@example.com", "delivered", 2, NOW + MIN, None, NOW + 2 * MIN
        ),
        DeliveryState(
            ids[1], "email", "e", "y@example.com", "failed", 1, NOW, "SMTP 550 no such user", None
        ),
    ]
    with connect(store_url).connect() as connection:
        payloads = (
            connection.execute(select(tables.deliveries.c.payload).order_by(tables.deliveries.c.id))
            .scalars()
            .all()
        )
    assert payloads == [None, "other"]
    assert store.next_due() is None
    assert store.prune(finished_before=NOW + 1, unconfirmed_before=NOW) == 2
    assert store.deliveries() == []


def test_a_fan_out_is_recorded_once_per_state(store: SubscriberStore) -> None:
    one = [NewDelivery("email", "e", "x@example.com", "1")]
    assert store.notified("incident:1") is None
    assert store.enqueue(one, NOW, notified=("incident:1", "f1", None)) is not None
    assert store.notified("incident:1") == "f1"
    assert store.enqueue(one, NOW, notified=("incident:1", "f1", None)) is None  # lost a race
    assert store.enqueue(one, NOW, notified=("incident:1", "f2", "f0")) is None
    assert store.enqueue(one, NOW, notified=("incident:1", "f2", "f1")) is not None
    assert store.notified("incident:1") == "f2"
    assert len(store.deliveries()) == 2


def test_unconfirmed_subscribers_are_pruned(store: SubscriberStore) -> None:
    compose = Composer()
    store.subscribe("old@example.com", None, NOW, resend_after=MIN, compose=compose)
    store.subscribe("new@example.com", None, NOW + 10 * MIN, resend_after=MIN, compose=compose)
    assert store.prune(finished_before=NOW, unconfirmed_before=NOW + MIN) == 1
    assert [s.email for s in store.subscribers(confirmed_only=False)] == ["new@example.com"]
    assert store.by_unsubscribe_token(compose.tokens[0][1]) is None
    assert len(store.deliveries()) == 1
