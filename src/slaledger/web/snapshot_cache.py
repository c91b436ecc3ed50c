"""Rendered bytes of the public surfaces, made once per status snapshot.

The :class:`~slaledger.core.publication.StatusSnapshot` changes at most once a minute, so
each surface (the page, a JSON document, a badge) is rendered once per snapshot and key,
kept in memory with its gzip form and ETag, and served with ``Cache-Control: max-age=60``;
``If-None-Match`` gets a 304. :class:`FastPath` serves the parameterless cached routes
straight from the ASGI scope, before FastAPI's routing and its per-request machinery.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from slaledger.core.publication import StatusSnapshot

Snapshots = Callable[[], StatusSnapshot]
"""The current snapshot; returns the same object until a new one is built."""
Render = Callable[[StatusSnapshot], bytes]

HTML = "text/html; charset=utf-8"
JSON = "application/json"
SVG = "image/svg+xml"
CSS = "text/css; charset=utf-8"
MAX_AGE = 60
GZIP_MIN_BYTES = 1024
MAX_ENTRIES = 20_000
MAX_BYTES = 256 * 1024 * 1024
"""Documents and bytes kept per snapshot; beyond either (many distinct query strings) the
oldest documents go."""


@dataclass(frozen=True)
class Rendered:
    """One document in its identity and (when worth it) gzip encodings."""

    body: bytes
    gzipped: bytes | None
    etag: str
    media_type: str
    status: int = 200

    @classmethod
    def of(cls, body: bytes, media_type: str, status: int = 200) -> Rendered:
        digest = hashlib.blake2b(body, digest_size=10).hexdigest()
        packed = gzip.compress(body, 6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
        return cls(body, packed, f'"{digest}"', media_type, status)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``gzip;q=0`` does not)."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip()
            return not quality or quality.strip("0.") != ""
    return False


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of ``If-None-Match`` against ``etag``."""
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def reply(
    rendered: Rendered, accept_encoding: str, if_none_match: str, head: bool = False
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body answering a request for ``rendered``."""
    body, etag = rendered.body, rendered.etag
    headers = [(b"cache-control", b"public, max-age=%d" % MAX_AGE)]
    if rendered.gzipped is not None:
        headers.append((b"vary", b"Accept-Encoding"))
        if accepts_gzip(accept_encoding):
            body, etag = rendered.gzipped, etag[:-1] + '-gz"'
            headers.append((b"content-encoding", b"gzip"))
    headers.append((b"etag", etag.encode()))
    if rendered.status == 200 and if_none_match and etag_matches(if_none_match, etag):
        return 304, headers, b""
    headers.append((b"content-type", rendered.media_type.encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    return rendered.status, headers, b"" if head else body


def _size(rendered: Rendered) -> int:
    return len(rendered.body) + len(rendered.gzipped or b"")


@dataclass(frozen=True)
class _Route:
    key: str
    render: Render
    media_type: str


class SnapshotCache:
    """Documents rendered from the current snapshot, each at most once per snapshot."""

    def __init__(
        self, snapshots: Snapshots, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self._snapshots = snapshots
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._snapshot: StatusSnapshot | None = None
        self._entries: dict[str, Rendered] = {}
        self._fast: dict[str, _Route] = {}
        self.renders = 0
        """How many documents were rendered (for tests and metrics)."""

    @property
    def fast_routes(self) -> Iterable[str]:
        return self._fast.keys()

    def snapshot(self) -> StatusSnapshot:
        """The current snapshot; a new one drops every document of the previous one."""
        current = self._snapshots()
        if current is not self._snapshot:
            with self._lock:
                if current is not self._snapshot:
                    self._entries = {}
                    self._bytes = 0
                    self._snapshot = current
        return current

    def get(
        self,
        key: str,
        render: Callable[[StatusSnapshot], bytes | Rendered],
        media_type: str = JSON,
    ) -> Rendered:
        """The document ``key`` of the current snapshot, rendered on first use."""
        snapshot = self.snapshot()
        found = self._entries.get(key)
        if found is not None:
            return found
        with self._lock:  # a document of a new snapshot is rendered once, not per request
            entries = self._entries
            found = entries.get(key)
            if found is not None:
                return found
            made = render(snapshot)
            rendered = made if isinstance(made, Rendered) else Rendered.of(made, media_type)
            self.renders += 1
            size = _size(rendered)
            if snapshot is self._snapshot and size <= self._max_bytes:
                while entries and (
                    len(entries) >= self._max or self._bytes + size > self._max_bytes
                ):
                    self._bytes -= _size(entries.pop(next(iter(entries))))
                entries[key] = rendered
                self._bytes += size
            return rendered

    def response(
        self,
        request: Request,
        key: str,
        render: Callable[[StatusSnapshot], bytes | Rendered],
        media_type: str = JSON,
    ) -> Response:
        """The cached document as a response to ``request`` (304 when its ETag matches)."""
        rendered = self.get(key, render, media_type)
        status, headers, body = reply(
            rendered,
            request.headers.get("accept-encoding", ""),
            request.headers.get("if-none-match", ""),
            request.method == "HEAD",
        )
        response = Response(body, status_code=status)
        response.raw_headers = headers
        return response

    def fast_route(self, path: str, render: Render, media_type: str) -> None:
        """Serve ``path`` (any query string) from the cache in :class:`FastPath`."""
        self._fast[path] = _Route(path, render, media_type)

    def warm(self) -> None:
        """Render every fast route for the current snapshot (call after building one)."""
        for route in self._fast.values():
            self.get(route.key, route.render, route.media_type)

    def lookup(self, path: str) -> Rendered | None:
        route = self._fast.get(path)
        return None if route is None else self.get(route.key, route.render, route.media_type)


class FastPath:
    """ASGI middleware: GET and HEAD of the cache's fast routes answered from memory."""

    def __init__(self, app: ASGIApp, cache: SnapshotCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        rendered = self.cache.lookup(scope["path"])
        if rendered is None:
            await self.app(scope, receive, send)
            return
        accept_encoding = if_none_match = b""
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept_encoding = value
            elif name == b"if-none-match":
                if_none_match = value
        status, headers, body = reply(
            rendered,
            accept_encoding.decode("latin-1"),
            if_none_match.decode("latin-1"),
            scope["method"] == "HEAD",
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
