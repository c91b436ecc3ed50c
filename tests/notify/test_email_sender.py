"""Email through a real SMTP server on 127.0.0.1: the MIME message, STARTTLS with login,
and which refusals are permanent."""

from __future__ import annotations

import asyncio
import ssl

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from notify_servers import free_port, html_of, smtp_server, text_of
from notify_views import INCIDENT, SITE, T0

from slaledger.errors import UsageError
from slaledger.notify import DeliveryError
from slaledger.notify.email_sender import EmailSender, SmtpSettings
from slaledger.notify.messages import incident_email


def test_a_message_arrives_with_text_html_and_headers() -> None:
    email = incident_email(SITE, INCIDENT, "U1")
    with smtp_server() as smtp:
        settings = SmtpSettings(
            smtp.host, smtp.port, from_address="Acme status <status@acme.example>"
        )
        asyncio.run(
            EmailSender(settings).send(
                "ana@example.com", email, message_id="<1.2@acme.example>", date=T0
            )
        )
        [message] = smtp.mailbox.wait_for(1)
    assert smtp.mailbox.envelopes == [("status@acme.example", ["ana@example.com"])]
    assert message["From"] == "Acme status <status@acme.example>"
    assert message["To"] == "ana@example.com"
    assert message["Subject"] == "[Acme Cloud] Investigating: API errors & timeouts"
    assert message["Date"] == "Fri, 09 Oct 2026 12:40:00 +0000"
    assert message["Message-ID"] == "<1.2@acme.example>"
    assert message["List-Unsubscribe"] == "<https://status.acme.example/unsubscribe?token=U1>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert text_of(message) == email.text
    assert html_of(message) == email.html


def test_starttls_and_login(ca: trustme.CA) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"right", handled=False)

    options = {
        "tls_context": server_context,
        "require_starttls": True,
        "authenticator": authenticator,
        "auth_required": True,
        # smtplib tries every mechanism offered; aiosmtpd's LOGIN waits after a failed PLAIN.
        "auth_exclude_mechanism": ["LOGIN"],
    }
    email = incident_email(SITE, INCIDENT, "U1")
    with smtp_server(**options) as smtp:
        good = SmtpSettings(
            smtp.host,
            smtp.port,
            from_address="status@acme.example",
            starttls=True,
            username="mailer",
            password="right",
            tls_context=client_context,
        )
        EmailSender(good).send_blocking("ana@example.com", email, message_id="<a@b>", date=T0)
        assert len(smtp.mailbox.wait_for(1)) == 1
        bad = SmtpSettings(
            smtp.host,
            smtp.port,
            from_address="status@acme.example",
            starttls=True,
            username="mailer",
            password="wrong",
            tls_context=client_context,
        )
        with pytest.raises(DeliveryError) as refused:
            EmailSender(bad).send_blocking("ana@example.com", email, message_id="<a@b>", date=T0)
        plain = SmtpSettings(smtp.host, smtp.port, from_address="status@acme.example")
        with pytest.raises(DeliveryError) as no_tls:
            EmailSender(plain).send_blocking("ana@example.com", email, message_id="<a@b>", date=T0)
        untrusted = SmtpSettings(
            smtp.host, smtp.port, from_address="status@acme.example", starttls=True
        )
        with pytest.raises(DeliveryError) as unverified:
            EmailSender(untrusted).send_blocking(
                "a@example.com", email, message_id="<a@b>", date=T0
            )
    assert logins == [(b"mailer", b"right"), (b"mailer", b"wrong")]
    assert str(refused.value) == "SMTP 535 5.7.8 Authentication credentials invalid"
    assert refused.value.permanent
    assert str(no_tls.value) == "SMTP 530 Must issue a STARTTLS command first"
    assert no_tls.value.permanent
    assert str(unverified.value).startswith("TLS with the SMTP server failed: [SSL: CERTIFICATE")
    assert not unverified.value.permanent


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def test_refused_recipients_are_permanent_for_5xx_only() -> None:
    email = incident_email(SITE, INCIDENT, "U1")
    with smtp_server() as smtp:
        smtp.mailbox.refuse = {
            "nobody@example.com": "550 5.1.1 no such user",
            "later@example.com": "451 4.3.0 try again later",
        }
        sender = EmailSender(SmtpSettings(smtp.host, smtp.port))
        with pytest.raises(DeliveryError) as gone:
            sender.send_blocking("nobody@example.com", email, message_id="<a@b>", date=T0)
        with pytest.raises(DeliveryError) as later:
            sender.send_blocking("later@example.com", email, message_id="<a@b>", date=T0)
    assert (str(gone.value), gone.value.permanent) == (
        "recipient refused: 550 5.1.1 no such user",
        True,
    )
    assert (str(later.value), later.value.permanent) == (
        "recipient refused: 451 4.3.0 try again later",
        False,
    )


def test_an_unreachable_server_is_a_temporary_failure() -> None:
    port = free_port()
    sender = EmailSender(SmtpSettings("127.0.0.1", port, timeout_seconds=2))
    with pytest.raises(DeliveryError) as caught:
        sender.send_blocking(
            "a@example.com", incident_email(SITE, INCIDENT, "u"), message_id="<a@b>", date=T0
        )
    assert str(caught.value) == f"cannot reach SMTP server 127.0.0.1:{port}: Connection refused"
    assert not caught.value.permanent


def test_settings_are_checked() -> None:
    with pytest.raises(UsageError) as bad_from:
        SmtpSettings("localhost", from_address="status")
    assert str(bad_from.value) == (
        "--smtp-from: expected a from address like status@example.com, got 'status'"
    )
    with pytest.raises(UsageError) as half:
        SmtpSettings("localhost", username="u")
    assert str(half.value) == "--smtp-user: give both a user name and a password, or neither"
    assert SmtpSettings("h", from_address="Acme <status@acme.example>").domain == "acme.example"
    assert "hunter2" not in repr(SmtpSettings("h", username="u", password="hunter2"))
