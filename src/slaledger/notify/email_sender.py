"""Sending email through an SMTP server (``smtplib``), optionally with STARTTLS and login.

One connection per message, opened in a worker thread (:meth:`EmailSender.send`), so a
slow server never blocks the event loop. A refusal with a 5xx code is permanent (the
outbox gives up at once); anything else (4xx, connection or timeout) is tried again later.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from slaledger.core.timebase import from_instant
from slaledger.errors import Problem, UsageError
from slaledger.notify import DeliveryError
from slaledger.notify.messages import Email


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send email."""

    host: str
    port: int = 25
    from_address: str = "status@localhost"
    """``status@example.com`` or ``Example status <status@example.com>``."""
    starttls: bool = False
    """Upgrade the connection with STARTTLS (refusing servers that do not offer it)."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    tls_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    """For STARTTLS; default: the system's trusted certificates, host name checked."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise UsageError(Problem(f"expected a port 1-65535, got {self.port}", "--smtp-port"))
        _name, address = parseaddr(self.from_address)
        if "@" not in address or "\n" in self.from_address or "\r" in self.from_address:
            raise UsageError(
                Problem(
                    f"expected a from address like status@example.com, got {self.from_address!r}",
                    field="--smtp-from",
                )
            )
        if (self.username is None) != (self.password is None):
            raise UsageError(
                Problem("give both a user name and a password, or neither", field="--smtp-user")
            )

    @property
    def domain(self) -> str:
        return parseaddr(self.from_address)[1].rpartition("@")[2]


def build_message(
    settings: SmtpSettings, to: str, email: Email, *, message_id: str, date: int
) -> EmailMessage:
    """The MIME message: text with an HTML alternative, ``date`` in µs since the epoch."""
    message = EmailMessage()
    name, address = parseaddr(settings.from_address)
    local, _, domain = address.rpartition("@")
    message["From"] = Address(display_name=name, username=local, domain=domain)
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(from_instant(date))
    message["Message-ID"] = message_id
    for header, value in email.headers:
        message[header] = value
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def _smtp_error(error: smtplib.SMTPException) -> DeliveryError:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        detail = "; ".join(
            f"{code} {reason.decode(errors='replace')}"
            for code, reason in error.recipients.values()
        )
        return DeliveryError(f"recipient refused: {detail}", permanent=min(codes) >= 500)
    code = getattr(error, "smtp_code", None)
    reason = getattr(error, "smtp_error", b"")
    if isinstance(code, int) and code > 0:
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        return DeliveryError(f"SMTP {code} {text}".strip(), permanent=code >= 500)
    return DeliveryError(f"SMTP error: {error}")


class EmailSender:
    """Sends :class:`Email` messages with :class:`SmtpSettings`."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send_blocking(self, to: str, email: Email, *, message_id: str, date: int) -> None:
        """Deliver one message to the SMTP server; :class:`DeliveryError` if it fails."""
        settings = self.settings
        message = build_message(settings, to, email, message_id=message_id, date=date)
        try:
            with smtplib.SMTP(
                settings.host, settings.port, timeout=settings.timeout_seconds
            ) as smtp:
                if settings.starttls:
                    context = settings.tls_context or ssl.create_default_context()
                    smtp.starttls(context=context)
                if settings.username is not None and settings.password is not None:
                    smtp.login(settings.username, settings.password)
                smtp.send_message(message)
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryError(f"SMTP server: {error}", permanent=True) from None
        except smtplib.SMTPAuthenticationError as error:
            raise _smtp_error(error) from None
        except smtplib.SMTPException as error:
            raise _smtp_error(error) from None
        except TimeoutError:
            raise DeliveryError(
                f"SMTP server {settings.host}:{settings.port} timed out after "
                f"{settings.timeout_seconds:g} s"
            ) from None
        except ssl.SSLError as error:
            raise DeliveryError(f"TLS with the SMTP server failed: {error}") from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise DeliveryError(
                f"cannot reach SMTP server {settings.host}:{settings.port}: {reason}"
            ) from None

    async def send(self, to: str, email: Email, *, message_id: str, date: int) -> None:
        """:meth:`send_blocking` in a worker thread."""
        await asyncio.to_thread(self.send_blocking, to, email, message_id=message_id, date=date)
