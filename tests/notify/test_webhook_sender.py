"""Webhook calls to real HTTP receivers on 127.0.0.1: the signature a receiver can verify,
failures, timeouts, and private addresses refused unless allowed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import pytest
from notify_servers import receiver

from slaledger.notify import DeliveryError
from slaledger.notify.webhook_sender import (
    WebhookSender,
    WebhookSettings,
    refused_address,
    sign,
    verify,
)

NOW = 1_791_549_630_123_456
SECRET = "whsec_test-secret-0123456789"
BODY = b'{"event":"incident.created","title":"caf\xc3\xa9"}'


def send(sender: WebhookSender, url: str, body: bytes = BODY) -> int:
    async def call() -> int:
        try:
            return await sender.send(
                url, SECRET, body, event="incident.created", delivery_id=42, now=NOW
            )
        finally:
            await sender.close()

    return asyncio.run(call())


def test_a_call_is_signed_over_timestamp_and_raw_body() -> None:
    with receiver() as hook:
        status = send(WebhookSender(WebhookSettings(allow_private=True)), hook.url)
        [call] = hook.wait_for(1)
    assert status == 200
    assert call.path == "/hook"
    assert call.body == BODY
    headers = {k.lower(): v for k, v in call.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["x-slaledger-event"] == "incident.created"
    assert headers["x-slaledger-delivery"] == "42"
    assert headers["x-slaledger-timestamp"] == "1791549630"
    assert headers["user-agent"] == "slaledger-webhooks/1"
    # What a receiver computes, without slaledger:
    expected = hmac.new(SECRET.encode(), b"1791549630." + call.body, hashlib.sha256).hexdigest()
    assert headers["x-slaledger-signature"] == f"sha256={expected}"
    assert verify(SECRET, call.body, "1791549630", headers["x-slaledger-signature"], 1791549700)


def test_verification_refuses_tampering_other_secrets_and_replays() -> None:
    signature = sign(SECRET, 1_000_000, BODY)
    assert verify(SECRET, BODY, "1000000", signature, 1_000_300)
    assert not verify(SECRET, BODY, "1000000", signature, 1_000_301)  # too old: a replay
    assert not verify(SECRET, BODY, "1000000", signature, 999_699)
    assert not verify(SECRET, BODY + b" ", "1000000", signature, 1_000_000)
    assert not verify(SECRET + "x", BODY, "1000000", signature, 1_000_000)
    assert not verify(SECRET, BODY, "1000001", signature, 1_000_000)
    assert not verify(SECRET, BODY, "-1", signature, 1_000_000)


def test_an_error_status_is_a_temporary_failure() -> None:
    with receiver(500) as hook:
        with pytest.raises(DeliveryError) as caught:
            send(WebhookSender(WebhookSettings(allow_private=True)), hook.url)
        assert len(hook.wait_for(1)) == 1
    assert str(caught.value) == "HTTP 500 Internal Server Error"
    assert not caught.value.permanent


def test_a_hanging_receiver_times_out() -> None:
    with receiver(hang=True) as hook:
        sender = WebhookSender(WebhookSettings(timeout_seconds=0.5, allow_private=True))
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            send(sender, hook.url)
        elapsed = time.monotonic() - started
    assert str(caught.value) == "no response within 0.5 s"
    assert not caught.value.permanent
    assert 0.4 < elapsed < 3


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "10.1.2.3",
        "169.254.169.254",
        "127.1",
        "2130706433",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::1]",
    ],
)
def test_private_addresses_are_refused_by_default(host: str) -> None:
    with receiver() as hook:
        port = hook.url.split(":")[2].split("/")[0]
        with pytest.raises(DeliveryError) as caught:
            send(WebhookSender(), f"http://{host}:{port}/hook")
        assert hook.calls == []
    assert caught.value.permanent
    if host == "localhost":
        assert str(caught.value) == "refused: localhost is a local name"
    elif host in ("127.1", "2130706433"):
        assert str(caught.value) == (
            f"refused: {host} is a non-canonical IPv4 address (write 127.0.0.1)"
        )
    else:
        assert str(caught.value) == f"refused: {host.strip('[]')} is a private or local address"


def test_bad_urls_are_permanent_failures() -> None:
    with pytest.raises(DeliveryError) as caught:
        send(WebhookSender(), "ftp://hooks.example/x")
    assert str(caught.value) == "expected an http or https URL, got 'ftp://hooks.example/x'"
    assert caught.value.permanent


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("169.254.169.254", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("fe80::1%eth0", True),
        ("fd00::1", True),
        ("::ffff:127.0.0.1", True),
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
    ],
)
def test_refused_addresses(address: str, refused: bool) -> None:
    assert refused_address(address) is refused
