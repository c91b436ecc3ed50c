"""Subscribers, webhooks, account holders and the outbox of deliveries, in the store.

Double opt-in: :meth:`SubscriberStore.subscribe` keeps a pending confirmation (the SHA-256 of
its token) and queues the confirmation email in the same transaction; :meth:`confirm`
applies it once. Every email to a subscriber carries its own unsubscribe token, of which
only the hash is kept, so a copy of the database unsubscribes nobody. Webhook secrets are
kept as they are: every delivery is signed with them.

The outbox (``deliveries``) is written in the transaction that decides to send, and read by
:class:`slaledger.notify.outbox.OutboxWorker`, which claims due rows with a lease (so two
workers never send the same row at once) and records each outcome.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar

from sqlalchemy import Engine, and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from slaledger.errors import Problem, UserError
from slaledger.store import subscriber_schema as tables

Kind = Literal["email", "webhook"]
_T = TypeVar("_T")
TOKEN_BYTES = 32
_DELIVERY_COLUMNS = ("kind", "event", "target", "subscriber_id", "webhook_id", "payload")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
MAX_EMAIL = 254


class DuplicateError(UserError):
    """The account holder is already there."""


def new_token() -> str:
    """A random URL-safe token for a link in an email."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(text: str) -> str:
    """``text`` as a stored address (trimmed, lower case); :class:`UserError` if it is not one."""
    email = text.strip().lower()
    if not email:
        raise UserError(Problem("expected an email address, got nothing", field="email"))
    domain = email.rpartition("@")[2]
    if len(email) > MAX_EMAIL or not EMAIL.match(email) or "." not in domain or ".." in email:
        shown = email if len(email) <= 80 else email[:77] + "..."
        raise UserError(
            Problem(
                f"expected an email address like name@example.com, got {shown!r}", field="email"
            )
        )
    return email


def _join(services: Sequence[str] | None) -> str | None:
    return None if services is None else ",".join(sorted(set(services)))


def _split(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(s for s in text.split(",") if s)


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    services: tuple[str, ...] | None
    """``None``: every service."""
    confirmed: bool
    created_at: int
    confirmed_at: int | None


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    secret: str
    services: tuple[str, ...] | None
    created_at: int


@dataclass(frozen=True)
class AccountHolder:
    id: int
    account: str
    email: str
    name: str | None
    created_at: int


@dataclass(frozen=True)
class NewDelivery:
    """A message to queue: an email to ``target`` or a webhook call to ``target``."""

    kind: Kind
    event: str
    target: str
    payload: str
    subscriber_id: int | None = None
    webhook_id: int | None = None
    unsubscribe_token_hash: str | None = None
    """Kept with the delivery: the hash of the unsubscribe token its email carries."""


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery, ready to send."""

    id: int
    kind: Kind
    event: str
    target: str
    payload: str
    attempts: int
    """Attempts made before this one."""
    created_at: int
    webhook_id: int | None
    secret: str | None
    """The webhook's secret (``None`` for emails)."""


@dataclass(frozen=True)
class DeliveryState:
    id: int
    kind: Kind
    event: str
    target: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: int
    last_error: str | None
    delivered_at: int | None


def _of(cls: type[_T], row: Any, **given: Any) -> _T:
    """A dataclass of the row's columns of the same names (and ``given`` values)."""
    names = [f.name for f in fields(cls) if f.name not in given]  # type: ignore[arg-type]
    values = {name: row._mapping.get(name) for name in names}
    return cls(**values, **given)


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        int(row.id),
        str(row.email),
        _split(row.services),
        bool(row.confirmed),
        int(row.created_at),
        None if row.confirmed_at is None else int(row.confirmed_at),
    )


def _webhook(row: Any) -> Webhook:
    return Webhook(
        int(row.id), str(row.url), str(row.secret), _split(row.services), int(row.created_at)
    )


class SubscriberStore:
    """Subscribers, webhooks, account holders and deliveries in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- Email subscribers ------------------------------------------------------------------

    def subscribe(
        self,
        email: str,
        services: Sequence[str] | None,
        now: int,
        *,
        resend_after: int,
        compose: Callable[[str, str], NewDelivery],
    ) -> bool:
        """Ask ``email`` to confirm a subscription to ``services`` (``None``: all).

        ``compose(confirm_token, unsubscribe_token)`` builds the confirmation email, queued
        in the same transaction. Returns ``False`` (and queues nothing) when a confirmation
        went to the address less than ``resend_after`` µs ago. A confirmed subscriber keeps
        its current services until it confirms the new choice.
        """
        email = normalise_email(email)
        s = tables.subscribers.c
        confirm = new_token()
        unsubscribe = new_token()
        try:
            with self._engine.begin() as connection:
                row = connection.execute(
                    select(s.id, s.confirm_sent_at).where(s.email == email)
                ).first()
                values = {
                    "pending_services": _join(services),
                    "confirm_token_hash": token_hash(confirm),
                    "confirm_sent_at": now,
                }
                if row is None:
                    subscriber_id = connection.execute(
                        insert(tables.subscribers).returning(s.id),
                        {**values, "email": email, "confirmed": False, "created_at": now},
                    ).scalar_one()
                elif 0 <= now - int(row.confirm_sent_at) < resend_after:
                    return False
                else:
                    subscriber_id = row.id
                    connection.execute(
                        update(tables.subscribers).where(s.id == subscriber_id).values(values)
                    )
                delivery = compose(confirm, unsubscribe)
                self._insert(
                    connection,
                    [
                        NewDelivery(
                            delivery.kind,
                            delivery.event,
                            delivery.target,
                            delivery.payload,
                            subscriber_id=int(subscriber_id),
                            unsubscribe_token_hash=token_hash(unsubscribe),
                        )
                    ],
                    now,
                )
        except IntegrityError:  # the same address subscribing twice at once: one wins
            return False
        return True

    def confirm(self, token: str, now: int, *, max_age: int) -> Subscriber | None:
        """Apply the confirmation whose link carries ``token``; ``None`` when no pending
        confirmation has it (already used, replaced by a newer one, or older than
        ``max_age`` µs)."""
        s = tables.subscribers.c
        with self._engine.begin() as connection:
            row = connection.execute(
                select(tables.subscribers).where(s.confirm_token_hash == token_hash(token))
            ).first()
            if row is None or now - int(row.confirm_sent_at) > max_age:
                return None
            confirmed_at = now if row.confirmed_at is None else int(row.confirmed_at)
            connection.execute(
                update(tables.subscribers)
                .where(s.id == row.id)
                .values(
                    confirmed=True,
                    services=row.pending_services,
                    pending_services=None,
                    confirm_token_hash=None,
                    confirmed_at=confirmed_at,
                )
            )
            updated = connection.execute(select(tables.subscribers).where(s.id == row.id)).one()
        return _subscriber(updated)

    def by_unsubscribe_token(self, token: str) -> Subscriber | None:
        """The subscriber an unsubscribe link is for, if it is still subscribed."""
        u = tables.unsubscribe_tokens.c
        s = tables.subscribers.c
        with self._engine.connect() as connection:
            row = connection.execute(
                select(tables.subscribers)
                .join(tables.unsubscribe_tokens, u.subscriber_id == s.id)
                .where(u.token_hash == token_hash(token))
            ).first()
        return None if row is None else _subscriber(row)

    def unsubscribe(self, token: str) -> Subscriber | None:
        """Forget the subscriber an unsubscribe link is for, with its tokens and pending
        emails; ``None`` when the token is unknown (already unsubscribed)."""
        with self._engine.begin() as connection:
            u = tables.unsubscribe_tokens.c
            subscriber_id = connection.execute(
                select(u.subscriber_id).where(u.token_hash == token_hash(token))
            ).scalar()
            if subscriber_id is None:
                return None
            s = tables.subscribers.c
            row = connection.execute(
                select(tables.subscribers).where(s.id == subscriber_id)
            ).first()
            connection.execute(delete(tables.subscribers).where(s.id == subscriber_id))
            connection.execute(
                delete(tables.unsubscribe_tokens).where(u.subscriber_id == subscriber_id)
            )
            d = tables.deliveries.c
            connection.execute(
                delete(tables.deliveries).where(
                    and_(d.subscriber_id == subscriber_id, d.status == "pending")
                )
            )
        return None if row is None else _subscriber(row)

    def pending_confirmations(self, since: int) -> int:
        """Subscriptions (new or changed) whose confirmation was sent at ``since`` or later
        and is not used yet."""
        s = tables.subscribers.c
        query = select(func.count()).where(
            s.confirm_token_hash.is_not(None), s.confirm_sent_at >= since
        )
        with self._engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def subscribers(self, *, confirmed_only: bool = True) -> list[Subscriber]:
        s = tables.subscribers.c
        query = select(tables.subscribers).order_by(s.id)
        if confirmed_only:
            query = query.where(s.confirmed.is_(True))
        with self._engine.connect() as connection:
            return [_subscriber(row) for row in connection.execute(query)]

    # --- Webhooks ---------------------------------------------------------------------------

    def add_webhook(
        self, url: str, secret: str, services: Sequence[str] | None, now: int
    ) -> Webhook:
        w = tables.webhooks.c
        with self._engine.begin() as connection:
            webhook_id = connection.execute(
                insert(tables.webhooks).returning(w.id),
                {"url": url, "secret": secret, "services": _join(services), "created_at": now},
            ).scalar_one()
        return Webhook(int(webhook_id), url, secret, _split(_join(services)), now)

    def remove_webhook(self, webhook_id: int) -> bool:
        """Delete a webhook and its pending deliveries; ``False`` when there is none."""
        with self._engine.begin() as connection:
            done = connection.execute(
                delete(tables.webhooks).where(tables.webhooks.c.id == webhook_id)
            )
            d = tables.deliveries.c
            connection.execute(
                delete(tables.deliveries).where(
                    and_(d.webhook_id == webhook_id, d.status == "pending")
                )
            )
        return bool(done.rowcount)

    def webhooks(self) -> list[Webhook]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(tables.webhooks).order_by(tables.webhooks.c.id))
            return [_webhook(row) for row in rows]

    # --- Account holders --------------------------------------------------------------------

    def add_account_holder(
        self, account: str, email: str, name: str | None, now: int
    ) -> AccountHolder:
        """A contact of customer ``account``; :class:`UserError` if it is already there."""
        email = normalise_email(email)
        a = tables.account_holders.c
        try:
            with self._engine.begin() as connection:
                holder_id = connection.execute(
                    insert(tables.account_holders).returning(a.id),
                    {"account": account, "email": email, "name": name, "created_at": now},
                ).scalar_one()
        except IntegrityError:
            raise DuplicateError(
                Problem(f"{email} is already a contact of account {account!r}", field="email")
            ) from None
        return AccountHolder(int(holder_id), account, email, name, now)

    def remove_account_holder(self, holder_id: int) -> bool:
        with self._engine.begin() as connection:
            done = connection.execute(
                delete(tables.account_holders).where(tables.account_holders.c.id == holder_id)
            )
        return bool(done.rowcount)

    def account_holders(self) -> list[AccountHolder]:
        a = tables.account_holders.c
        with self._engine.connect() as connection:
            rows = connection.execute(select(tables.account_holders).order_by(a.account, a.id))
            return [_of(AccountHolder, row) for row in rows]

    # --- The outbox -------------------------------------------------------------------------

    def notified(self, subject: str) -> str | None:
        """The fingerprint of what was last fanned out for ``subject`` (``incident:12``)."""
        n = tables.notified.c
        with self._engine.connect() as connection:
            value = connection.execute(select(n.fingerprint).where(n.subject == subject)).scalar()
        return None if value is None else str(value)

    def enqueue(
        self,
        deliveries: Iterable[NewDelivery],
        now: int,
        *,
        notified: tuple[str, str, str | None] | None = None,
    ) -> list[int] | None:
        """Queue ``deliveries``, due now; returns their ids.

        ``notified=(subject, fingerprint, previous)`` also records the fan-out of a change,
        only if the stored fingerprint is still ``previous``: otherwise another fan-out won
        the race and nothing is queued (``None``).
        """
        with self._engine.begin() as connection:
            if notified is not None:
                subject, fingerprint, previous = notified
                n = tables.notified.c
                current = connection.execute(
                    select(n.fingerprint).where(n.subject == subject)
                ).scalar()
                if current != previous:
                    return None
                values = {"fingerprint": fingerprint, "at": now}
                if current is None:
                    try:
                        with connection.begin_nested():
                            connection.execute(
                                insert(tables.notified), {"subject": subject, **values}
                            )
                    except IntegrityError:
                        return None
                else:
                    done = connection.execute(
                        update(tables.notified)
                        .where(and_(n.subject == subject, n.fingerprint == previous))
                        .values(values)
                    )
                    if not done.rowcount:
                        return None
            return self._insert(connection, list(deliveries), now)

    @staticmethod
    def _insert(connection: Connection, deliveries: list[NewDelivery], now: int) -> list[int]:
        tokens = [
            {
                "token_hash": d.unsubscribe_token_hash,
                "subscriber_id": d.subscriber_id,
                "created_at": now,
            }
            for d in deliveries
            if d.unsubscribe_token_hash is not None
        ]
        if tokens:
            connection.execute(insert(tables.unsubscribe_tokens), tokens)
        ids = []
        for delivery in deliveries:
            row = {
                **{key: getattr(delivery, key) for key in _DELIVERY_COLUMNS},
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            returning = insert(tables.deliveries).returning(tables.deliveries.c.id)
            ids.append(int(connection.execute(returning, row).scalar_one()))
        return ids

    def claim(
        self,
        kind: Kind,
        now: int,
        limit: int,
        *,
        lease_until: int,
        busy_webhooks: Iterable[int] = (),
    ) -> list[Delivery]:
        """Up to ``limit`` due deliveries of ``kind``, oldest due first, each leased (its
        next attempt moved to ``lease_until``) so no other worker takes it meanwhile.

        At most one delivery per webhook, none for ``busy_webhooks``: one endpoint's calls
        never take every slot.
        """
        if limit <= 0:
            return []
        d = tables.deliveries.c
        w = tables.webhooks.c
        busy = set(busy_webhooks)
        query = (
            select(tables.deliveries, w.secret)
            .outerjoin(tables.webhooks, w.id == d.webhook_id)
            .where(and_(d.status == "pending", d.kind == kind, d.next_attempt_at <= now))
            .order_by(d.next_attempt_at, d.id)
            .limit(limit * 4 + len(busy))
        )
        claimed: list[Delivery] = []
        with self._engine.begin() as connection:
            for row in connection.execute(query).all():
                if len(claimed) == limit:
                    break
                if row.webhook_id is not None:
                    if row.webhook_id in busy or row.secret is None:
                        continue
                    busy.add(row.webhook_id)
                taken = connection.execute(
                    update(tables.deliveries)
                    .where(
                        and_(
                            d.id == row.id,
                            d.status == "pending",
                            d.next_attempt_at == row.next_attempt_at,
                        )
                    )
                    .values(next_attempt_at=lease_until)
                )
                if taken.rowcount:
                    claimed.append(_of(Delivery, row, payload=str(row.payload)))
        return claimed

    def delivered(self, delivery_id: int, now: int) -> None:
        """Record a successful attempt; an email's payload (its unsubscribe link) is dropped."""
        d = tables.deliveries.c
        with self._engine.begin() as connection:
            row = connection.execute(select(d.kind).where(d.id == delivery_id)).first()
            values: dict[str, Any] = {
                "status": "delivered",
                "attempts": d.attempts + 1,
                "delivered_at": now,
                "last_error": None,
            }
            if row is not None and row.kind == "email":
                values["payload"] = None
            connection.execute(update(tables.deliveries).where(d.id == delivery_id).values(values))

    def attempt_failed(self, delivery_id: int, error: str, retry_at: int | None) -> None:
        """Record a failed attempt: tried again at ``retry_at``, or given up when ``None``."""
        d = tables.deliveries.c
        values: dict[str, Any] = {"attempts": d.attempts + 1, "last_error": error[:2000]}
        if retry_at is None:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = retry_at
        with self._engine.begin() as connection:
            connection.execute(update(tables.deliveries).where(d.id == delivery_id).values(values))

    def deliveries(self) -> list[DeliveryState]:
        """Every delivery kept, oldest first (for operators and tests)."""
        d = tables.deliveries.c
        with self._engine.connect() as connection:
            rows = connection.execute(select(tables.deliveries).order_by(d.id)).all()
        return [_of(DeliveryState, row) for row in rows]

    def next_due(self) -> int | None:
        """When the earliest pending delivery is due (``None``: none pending)."""
        d = tables.deliveries.c
        with self._engine.connect() as connection:
            value = connection.execute(
                select(d.next_attempt_at)
                .where(d.status == "pending")
                .order_by(d.next_attempt_at)
                .limit(1)
            ).scalar()
        return None if value is None else int(value)

    def prune(self, *, finished_before: int, unconfirmed_before: int) -> int:
        """Delete deliveries delivered or given up before ``finished_before``, and subscribers
        never confirmed whose last confirmation went out before ``unconfirmed_before``."""
        d = tables.deliveries.c
        s = tables.subscribers.c
        u = tables.unsubscribe_tokens.c
        with self._engine.begin() as connection:
            finished = connection.execute(
                delete(tables.deliveries).where(
                    and_(d.status != "pending", d.created_at < finished_before)
                )
            ).rowcount
            stale = select(s.id).where(
                and_(s.confirmed.is_(False), s.confirm_sent_at < unconfirmed_before)
            )
            connection.execute(delete(tables.unsubscribe_tokens).where(u.subscriber_id.in_(stale)))
            connection.execute(
                delete(tables.deliveries).where(
                    and_(d.subscriber_id.in_(stale), d.status == "pending")
                )
            )
            removed = connection.execute(
                delete(tables.subscribers).where(
                    and_(s.confirmed.is_(False), s.confirm_sent_at < unconfirmed_before)
                )
            ).rowcount
        return int(finished) + int(removed)
