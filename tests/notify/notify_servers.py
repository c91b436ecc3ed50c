"""Real servers for notification tests: an SMTP server (aiosmtpd) and HTTP webhook receivers
on 127.0.0.1, each in its own thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """What the SMTP server received, in arrival order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}
        """Recipients refused, with the reply (``550 no such user``)."""
        self._arrived = threading.Condition()

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            self.messages.append(message)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        with self._arrived:
            ok = self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert ok, f"expected {count} messages, got {len(self.messages)}"
        return list(self.messages)


@dataclass
class Smtp:
    host: str
    port: int
    mailbox: Mailbox


@contextmanager
def smtp_server(**options: Any) -> Iterator[Smtp]:
    """A real SMTP server on 127.0.0.1 (``options`` go to aiosmtpd's ``Controller``)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield Smtp("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


@dataclass(frozen=True)
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A webhook receiver: answers ``status`` or, with ``hang``, never answers until closed."""

    url: str
    status: int = 200
    hang: bool = False
    calls: list[Call] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    release: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Call]:
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.calls) >= count, timeout)
        assert ok, f"expected {count} calls at {self.url}, got {len(self.calls)}"
        return list(self.calls)


@contextmanager
def receiver(status: int = 200, *, hang: bool = False) -> Iterator[Receiver]:
    state = Receiver("", status, hang)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.arrived:
                state.calls.append(
                    Call(self.path, dict(self.headers.items()), body, time.monotonic())
                )
                state.arrived.notify_all()
            if state.hang:
                state.release.wait(30)
                return
            self.send_response(state.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
