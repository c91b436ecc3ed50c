"""What every request goes through before routing: CORS for the public read routes, ``HEAD``
wherever ``GET`` answers, a size limit and a time limit on every request body.

- Public read routes (``/api/v1/*`` except ``admin`` and ``ingest``, ``/api/v2/*``, badges,
  feeds) answer any origin: ``Access-Control-Allow-Origin: *`` on every response and a
  ``204`` to a CORS preflight (``OPTIONS``). Admin, operator and ingest routes never carry
  CORS headers, so a browser page on another origin cannot read or call them.
- ``HEAD`` is answered as ``GET`` without the body (same status and headers).
- A body larger than its route's limit (:data:`BODY_LIMITS`, by path prefix) is refused with
  ``413`` before it is read; a body whose next chunk takes more than ``body_seconds`` to
  arrive is refused with ``408``.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slaledger.errors import HttpError
from slaledger.web.errors import error_body

PUBLIC_FEEDS = frozenset({"/feed.atom", "/maintenance.ics", "/history.atom", "/history.rss"})
PRIVATE_V1 = ("/api/v1/admin", "/api/v1/ingest")
DEFAULT_BODY_LIMIT = 64 * 1024
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    ("/api/v1/ingest", 32 * 1024 * 1024),
    ("/api/v1/admin/incidents", 1024 * 1024),
    ("/api/v1/admin/maintenance", 1024 * 1024),
    ("/api/v1/admin/records", 32 * 1024 * 1024),
)
"""Largest body per path prefix (first match); every other path: :data:`DEFAULT_BODY_LIMIT`."""
BODY_SECONDS = 30.0
PREFLIGHT_MAX_AGE = 86_400
CORS_ALLOW = (b"access-control-allow-origin", b"*")


def is_public(path: str) -> bool:
    """Whether ``path`` is a public read route that any origin may read."""
    if path.startswith(("/api/v2/", "/badge/")) or path in PUBLIC_FEEDS:
        return True
    return path.startswith("/api/v1/") and not path.startswith(PRIVATE_V1)


def body_limit(path: str) -> int:
    return next(
        (size for prefix, size in BODY_LIMITS if path.startswith(prefix)), DEFAULT_BODY_LIMIT
    )


class RequestRefusedError(HttpError):
    """A request body refused while the route reads it (too large, too slow)."""


async def _send_error(send: Send, status: int, message: str, public: bool) -> None:
    body = error_body(message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if public:
        headers.append(CORS_ALLOW)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HttpGuard:
    """ASGI middleware applying the rules above; put it outermost."""

    def __init__(self, app: ASGIApp, body_seconds: float = BODY_SECONDS) -> None:
        self.app = app
        self.body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        public = is_public(path)
        if method == "OPTIONS" and public:
            await self._preflight(scope, send)
            return
        head = method == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        limit = body_limit(path)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            message = (
                f"body: larger than {limit} bytes" if declared.isdigit() else "body: bad length"
            )
            await _send_error(send, 413 if declared.isdigit() else 400, message, public)
            return
        started = False
        received = 0
        complete = method in ("GET", "HEAD") or declared == "0"

        async def guarded_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_seconds)
            except TimeoutError:
                raise RequestRefusedError(
                    408, f"body: no data for {self.body_seconds:g} s; request timed out"
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestRefusedError(413, f"body: larger than {limit} bytes")
                complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if public:
                    headers = [
                        (name, value)
                        for name, value in message.get("headers", [])
                        if name.lower() != CORS_ALLOW[0]
                    ]
                    message = {**message, "headers": [*headers, CORS_ALLOW]}
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except RequestRefusedError as refused:
            if started:
                raise
            await _send_error(send, refused.status, refused.message, public)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        requested = _header(scope, b"access-control-request-headers") or ""
        allowed = ", ".join(
            name.strip() for name in requested.split(",")[:20] if name.strip().isascii()
        )
        headers = [
            CORS_ALLOW,
            (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
            (b"access-control-max-age", str(PREFLIGHT_MAX_AGE).encode()),
            (b"vary", b"Access-Control-Request-Headers"),
            (b"content-length", b"0"),
        ]
        if allowed:
            headers.append((b"access-control-allow-headers", allowed[:1000].encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1")).strip()
    return None
